"""Adding, reading, updating and deleting an organization's contacts.

Each use case is one async function taking a typed command (parsed from the
wire by the edge, with the domain's rules) and the Transactions to run in: it
checks, writes in one transaction, and counts what it wrote once committed.
The synchronous steps (`add`, `update`, `delete`, `get`) run inside a
transaction; the API's Idempotency-Key path runs `add` inside its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping

from contacthub import metrics
from contacthub.clock import now_ms
from contacthub.domain.contacts import (
    CONTACT_FIELDS,
    AddOptions,
    ContactChanges,
    ContactDraft,
    NewContacts,
    find_duplicates,
    find_update_duplicates,
    parse_contact_id,
    plan_add,
)
from contacthub.domain.fields import FieldInvalid
from contacthub.domain.paging import PageRequest, PageStateCodec
from contacthub.domain.users import Principal
from contacthub.errors import DuplicateContacts, InvalidRequest, Problem
from contacthub.services.transactions import Transactions
from contacthub.storage import contacts


@dataclass(frozen=True, slots=True)
class AddedContacts:
    """One entry per input element, in input order; ids are None for a dry run's new contacts."""

    entries: list[dict[str, Any]]
    skipped: list[int]
    validate_only: bool


@dataclass(frozen=True, slots=True)
class ContactPage:
    contacts: list[dict[str, Any]]
    count: int
    page_state: str | None


@dataclass(frozen=True, slots=True)
class AddRequest:
    """New contacts made ready to insert, one per draft (storage.contacts.prepare_new)."""

    options: AddOptions
    drafts: list[ContactDraft]
    prepared: list[contacts.PreparedContact]


def ready(command: NewContacts) -> AddRequest:
    """Ids, search keys and row values, computed before the transaction: the writers that
    queue for the database need not wait while another request's contacts are made."""
    prepared = [] if command.options.validate_only else contacts.prepare_new(command.drafts)
    return AddRequest(command.options, command.drafts, prepared)


async def add_contacts(
    transactions: Transactions, principal: Principal, command: NewContacts
) -> AddedContacts:
    """`v3/contact/add`: the whole batch or nothing (DuplicateContacts, InvalidRequest)."""
    added = await transactions.writing(add, principal, ready(command))
    count_added(added)
    return added


def count_added(added: AddedContacts) -> None:
    """Count, once committed, what an add wrote (a dry run wrote nothing)."""
    if not added.validate_only:
        for status in ("created", "updated"):
            metrics.record_contacts_written(
                status, sum(entry["status"] == status for entry in added.entries)
            )


def add(connection: Connection, principal: Principal, wanted: AddRequest) -> AddedContacts:
    """Apply a checked `v3/contact/add` whole, or raise: nothing is written unless everything is."""
    options, drafts = wanted.options, wanted.drafts
    phones = [draft.phone_no for draft in drafts]
    # Most batches hold only new numbers, so the stored ones are looked up
    # first only when the answer needs them before anything is written: for a
    # dry run, and for a 409 that must name every duplicate. Otherwise the
    # unique index reports them as the insert's conflicts, handled below.
    stored: dict[str, str] = {}
    if options.validate_only or find_duplicates(phones, stored):
        stored = contacts.ids_by_phone(connection, app_id=principal.app_id, phones=phones)
    plan = plan_add(phones, stored, options.on_duplicate)
    if options.validate_only:
        entries = [
            {"phone_no": phone, "status": status}
            for phone, status in zip(phones, plan.statuses, strict=True)
        ]
        return AddedContacts(entries, _skipped(plan.statuses), validate_only=True)

    now = now_ms()
    to_create = [
        p for p, status in zip(wanted.prepared, plan.statuses, strict=True) if status == "created"
    ]
    created, taken = contacts.insert_new(
        connection, app_id=principal.app_id, prepared=to_create, now_ms=now
    )
    if len(created) < len(to_create):
        # Some of these numbers are stored already, or another request stored
        # them after our look-up: the unique index kept them out, and the
        # winners are committed and visible now. Decide again knowing them;
        # under "error" raising rolls back the rows of this batch that did go in.
        stored |= taken
        plan = plan_add(phones, stored, options.on_duplicate)
    new_ids = {contact.phone_no: contact.contact_id for contact in created}

    if options.on_duplicate == "update":
        upserts = [
            d for d, status in zip(drafts, plan.statuses, strict=True) if status == "updated"
        ]
        _upsert(connection, principal, upserts, stored, now)
    entries = [
        {"contact_id": new_ids.get(phone) or stored[phone], "phone_no": phone, "status": status}
        for phone, status in zip(phones, plan.statuses, strict=True)
    ]
    return AddedContacts(entries, _skipped(plan.statuses), validate_only=False)


def _skipped(statuses: list[str]) -> list[int]:
    return [index for index, status in enumerate(statuses) if status == "skipped"]


def _upsert(
    connection: Connection,
    principal: Principal,
    drafts: list[ContactDraft],
    stored: dict[str, str],
    now: int,
) -> None:
    """Give stored contacts the fields each draft names; fields it leaves out stay as they are."""
    if not drafts:
        return
    ids = [stored[draft.phone_no] for draft in drafts]
    current = contacts.get_many(connection, app_id=principal.app_id, contact_ids=ids)
    changed = [
        _merged(
            current[contact_id],
            {field: getattr(draft, field) for field in CONTACT_FIELDS if field in draft.given},
        )
        for draft, contact_id in zip(drafts, ids, strict=True)
    ]
    # The phone number is the key the contact was found by, so it cannot collide.
    contacts.replace_fields(connection, app_id=principal.app_id, changed=changed, now_ms=now)


async def update_contacts(
    transactions: Transactions, principal: Principal, changes: ContactChanges
) -> int:
    """`v3/contact/update`: every contact of the batch, or none; how many were updated."""
    updated = await transactions.writing(update, principal, changes)
    metrics.record_contacts_written("updated", updated)
    return updated


def update(connection: Connection, principal: Principal, changes: ContactChanges) -> int:
    patches, named = changes.patches, changes.named_ids
    current = contacts.get_many(connection, app_id=principal.app_id, contact_ids=named.values())
    unknown = [
        Problem("contact_id", "no such contact in this organization", index)
        for index, contact_id in named.items()
        if contact_id not in current
    ]
    # Unknown ids are listed with every other problem, in batch order.
    InvalidRequest.raise_if(
        sorted(changes.problems + unknown, key=lambda problem: problem.index or 0)
    )
    new_phones = [p.changes["phone_no"] for p in patches if "phone_no" in p.changes]
    holders = contacts.ids_by_phone(connection, app_id=principal.app_id, phones=new_phones)
    duplicates = find_update_duplicates(patches, holders)
    if duplicates:
        raise DuplicateContacts(duplicates)
    changed = [_merged(current[patch.contact_id], patch.changes) for patch in patches]
    if not contacts.replace_fields(
        connection, app_id=principal.app_id, changed=changed, now_ms=now_ms()
    ):
        # A racing request took one of the new numbers after our look-up.
        holders = contacts.ids_by_phone(connection, app_id=principal.app_id, phones=new_phones)
        raise DuplicateContacts(find_update_duplicates(patches, holders))
    return len(changed)


def _merged(row: RowMapping, changes: dict[str, Any]) -> dict[str, Any]:
    """A stored contact's id and fields, with `changes` applied."""
    return {
        **{field: row[field] for field in CONTACT_FIELDS},
        **changes,
        "contact_id": str(row["contact_id"]),
    }


async def delete_contacts(
    transactions: Transactions, principal: Principal, contact_ids: list[str]
) -> int:
    """`v3/contact/delete`: how many were deleted; ids that match nothing are ignored."""
    deleted = await transactions.writing(delete, principal, contact_ids)
    metrics.record_contacts_written("deleted", deleted)
    return deleted


def delete(connection: Connection, principal: Principal, contact_ids: list[str]) -> int:
    return contacts.delete_many(connection, app_id=principal.app_id, contact_ids=contact_ids)


async def get_page(
    transactions: Transactions, principal: Principal, request: PageRequest, codec: PageStateCodec
) -> ContactPage:
    """`v3/contact/get`: one contact by id, or a page in creation order, searched or not."""
    return await transactions.reading(get, principal, request, codec)


async def get_contact(
    transactions: Transactions, principal: Principal, contact_id: str
) -> dict[str, Any] | None:
    """One contact of the principal's organization, or None (also for a malformed id)."""
    try:
        contact_id = parse_contact_id(contact_id)
    except FieldInvalid:
        return None
    row = await transactions.reading(
        lambda connection: contacts.get(connection, app_id=principal.app_id, contact_id=contact_id)
    )
    return None if row is None else _public(row)


def get(
    connection: Connection, principal: Principal, request: PageRequest, codec: PageStateCodec
) -> ContactPage:
    app_id = principal.app_id
    if request.contact_id is not None:
        row = contacts.get(connection, app_id=app_id, contact_id=request.contact_id)
        total = contacts.count(connection, app_id=app_id)
        return ContactPage([] if row is None else [_public(row)], total, None)

    # One row more than asked tells whether a next page exists without a second query.
    rows = contacts.page(
        connection,
        app_id=app_id,
        after=request.after,
        limit=request.limit + 1,
        search=request.search,
    )
    has_more = len(rows) > request.limit
    rows = rows[: request.limit]
    page_state = (
        codec.seal(app_id=app_id, search=request.search, position=rows[-1]["seq"])
        if has_more
        else None
    )
    total = contacts.count(connection, app_id=app_id, search=request.search)
    return ContactPage([_public(row) for row in rows], total, page_state)


def _public(row: RowMapping) -> dict[str, Any]:
    return {
        "contact_id": str(row["contact_id"]),
        **{field: row[field] for field in CONTACT_FIELDS},
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
