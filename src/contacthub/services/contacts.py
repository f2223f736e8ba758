"""Adding, reading, updating and deleting an organization's contacts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping

from contacthub.clock import now_ms
from contacthub.domain.contacts import (
    CONTACT_FIELDS,
    AddOptions,
    ContactDraft,
    find_duplicates,
    find_update_duplicates,
    named_contact_ids,
    parse_add_options,
    parse_contact_batch,
    parse_contact_ids,
    parse_update_batch,
    plan_add,
)
from contacthub.domain.paging import PageRequest, PageStateCodec, parse_page_request
from contacthub.errors import DuplicateContacts, InvalidRequest, Problem
from contacthub.storage import contacts
from contacthub.storage.users import Principal


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


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise InvalidRequest(problems)


@dataclass(frozen=True, slots=True)
class AddRequest:
    """A `v3/contact/add` body that passed every field rule: what to store, and how."""

    options: AddOptions
    drafts: list[ContactDraft]
    # Made ready to insert in advance, one per draft (storage.contacts.prepare_new).
    prepared: list[contacts.PreparedContact]


def check_add_request(principal: Principal, body: dict[str, Any]) -> AddRequest:
    """Apply every rule of an add that needs no stored data, or raise InvalidRequest.

    It runs before the transaction: the writers that queue for the database
    need not wait while another request's contacts are checked.
    """
    options, option_problems = parse_add_options(body)
    drafts, problems = parse_contact_batch(
        body.get("contacts"), default_region=principal.default_region
    )
    _raise_if(option_problems + problems)
    prepared = [] if options.validate_only else contacts.prepare_new(drafts)
    return AddRequest(options, drafts, prepared)


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


def update(connection: Connection, principal: Principal, body: dict[str, Any]) -> int:
    """Apply `v3/contact/update` whole, or raise; returns how many contacts it updated."""
    patches, problems = parse_update_batch(
        body.get("contacts"), default_region=principal.default_region
    )
    named = named_contact_ids(body.get("contacts"))
    current = contacts.get_many(connection, app_id=principal.app_id, contact_ids=named.values())
    unknown = [
        Problem("contact_id", "no such contact in this organization", index)
        for index, contact_id in named.items()
        if contact_id not in current
    ]
    # Unknown ids are listed with every other problem, in batch order.
    _raise_if(sorted(problems + unknown, key=lambda problem: problem.index or 0))
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


def delete(connection: Connection, principal: Principal, body: dict[str, Any]) -> int:
    """Apply `v3/contact/delete`; ids that match nothing in the organization are ignored."""
    ids, problems = parse_contact_ids(body.get("contact_ids"))
    _raise_if(problems)
    return contacts.delete_many(connection, app_id=principal.app_id, contact_ids=ids)


def check_page_request(
    principal: Principal, body: dict[str, Any], codec: PageStateCodec
) -> PageRequest:
    request, problems = parse_page_request(body, codec=codec, app_id=principal.app_id)
    _raise_if(problems)
    return request


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
