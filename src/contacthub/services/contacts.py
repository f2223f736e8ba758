"""Adding and reading an organization's contacts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping

from contacthub.clock import now_ms
from contacthub.domain.contacts import ContactDraft, find_duplicates, parse_contact_batch
from contacthub.domain.paging import PageRequest, encode_page_state, parse_page_request
from contacthub.errors import DuplicateContacts, InvalidRequest
from contacthub.storage import contacts
from contacthub.storage.contacts import NewContact
from contacthub.storage.users import Principal


@dataclass(frozen=True, slots=True)
class ContactPage:
    contacts: list[dict[str, Any]]
    count: int
    page_state: str | None


def check_new_contacts(principal: Principal, body: dict[str, Any]) -> list[ContactDraft]:
    """Every field rule on `contacts`, before any database work; raises with every problem."""
    drafts, problems = parse_contact_batch(
        body.get("contacts"), default_region=principal.default_region
    )
    if problems:
        raise InvalidRequest(problems)
    return drafts


def add(
    connection: Connection, principal: Principal, drafts: list[ContactDraft]
) -> list[NewContact]:
    """Store the whole batch, or nothing if any number is repeated or already stored."""
    phones = [draft.phone_no for draft in drafts]
    stored = contacts.ids_by_phone(connection, app_id=principal.app_id, phones=phones)
    duplicates = find_duplicates(phones, stored)
    if duplicates:
        raise DuplicateContacts(duplicates)
    created = contacts.insert_new(
        connection, app_id=principal.app_id, drafts=drafts, now_ms=now_ms()
    )
    if len(created) < len(drafts):
        # Another request stored some of these numbers after our look-up: the
        # unique index kept them out, and the winners are committed and visible
        # now. Raising rolls back the rows of this batch that did go in.
        taken = set(phones).difference(contact.phone_no for contact in created)
        stored = contacts.ids_by_phone(connection, app_id=principal.app_id, phones=list(taken))
        raise DuplicateContacts(find_duplicates(phones, stored))
    return created


def check_page_request(body: dict[str, Any]) -> PageRequest:
    request, problems = parse_page_request(body)
    if problems:
        raise InvalidRequest(problems)
    return request


def get(connection: Connection, principal: Principal, request: PageRequest) -> ContactPage:
    total = contacts.count(connection, app_id=principal.app_id)
    if request.contact_id is not None:
        row = contacts.get(connection, app_id=principal.app_id, contact_id=request.contact_id)
        return ContactPage([] if row is None else [_public(row)], total, None)

    # One row more than asked tells whether a next page exists without a second query.
    rows = contacts.page(
        connection, app_id=principal.app_id, after=request.after, limit=request.limit + 1
    )
    has_more = len(rows) > request.limit
    rows = rows[: request.limit]
    page_state = encode_page_state(rows[-1]["seq"]) if has_more else None
    return ContactPage([_public(row) for row in rows], total, page_state)


def _public(row: RowMapping) -> dict[str, Any]:
    return {
        "contact_id": str(row["contact_id"]),
        "phone_no": row["phone_no"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "email_id": row["email_id"],
        "company": row["company"],
        "job_title": row["job_title"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
