"""Contacts. Every function takes the organization's app id: no query can forget it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import uuid6
from sqlalchemy import Connection, RowMapping, func, select

from contacthub.domain.contacts import ContactDraft
from contacthub.storage.dialect import insert_ignoring_conflicts
from contacthub.storage.tables import contacts

_PUBLIC_COLUMNS = (
    contacts.c.seq,
    contacts.c.contact_id,
    contacts.c.phone_no,
    contacts.c.first_name,
    contacts.c.last_name,
    contacts.c.email_id,
    contacts.c.company,
    contacts.c.job_title,
    contacts.c.created_at,
    contacts.c.updated_at,
)


@dataclass(frozen=True, slots=True)
class NewContact:
    contact_id: str
    phone_no: str


def ids_by_phone(connection: Connection, *, app_id: int, phones: Sequence[str]) -> dict[str, str]:
    """The stored contacts among `phones`: number → contact id."""
    rows = connection.execute(
        select(contacts.c.phone_no, contacts.c.contact_id).where(
            contacts.c.app_id == app_id, contacts.c.phone_no.in_(set(phones))
        )
    )
    return {phone: str(contact_id) for phone, contact_id in rows}


def insert_new(
    connection: Connection, *, app_id: int, drafts: Sequence[ContactDraft], now_ms: int
) -> list[NewContact]:
    """Insert the drafts in one statement; return those that went in, in batch order.

    A draft whose number is already stored is left out rather than failing the
    statement; the caller decides whether the transaction may stand.
    """
    rows = [
        {
            "contact_id": uuid6.uuid7(),
            "app_id": app_id,
            "phone_no": draft.phone_no,
            "first_name": draft.first_name,
            "last_name": draft.last_name,
            "email_id": draft.email_id,
            "company": draft.company,
            "job_title": draft.job_title,
            "created_at": now_ms,
            "updated_at": now_ms,
        }
        for draft in drafts
    ]
    inserted = set(
        connection.execute(
            insert_ignoring_conflicts(connection, contacts)
            .values(rows)
            .returning(contacts.c.phone_no)
        ).scalars()
    )
    return [
        NewContact(str(row["contact_id"]), str(row["phone_no"]))
        for row in rows
        if row["phone_no"] in inserted
    ]


def get(connection: Connection, *, app_id: int, contact_id: str) -> RowMapping | None:
    return (
        connection.execute(
            select(*_PUBLIC_COLUMNS).where(
                contacts.c.app_id == app_id, contacts.c.contact_id == uuid.UUID(contact_id)
            )
        )
        .mappings()
        .first()
    )


def page(connection: Connection, *, app_id: int, after: int, limit: int) -> list[RowMapping]:
    """Up to `limit` contacts created after position `after`, in creation order."""
    return list(
        connection.execute(
            select(*_PUBLIC_COLUMNS)
            .where(contacts.c.app_id == app_id, contacts.c.seq > after)
            .order_by(contacts.c.seq)
            .limit(limit)
        ).mappings()
    )


def count(connection: Connection, *, app_id: int) -> int:
    return connection.execute(
        select(func.count()).select_from(contacts).where(contacts.c.app_id == app_id)
    ).scalar_one()
