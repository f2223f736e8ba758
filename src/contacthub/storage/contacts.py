"""Contacts. Every function takes the organization's app id: no query can forget it."""

from __future__ import annotations

import itertools
import json
import operator
import os
import random
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, reduce
from itertools import chain
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    true,
)
from sqlalchemy import exc as sa_exc

from contacthub.domain.contacts import CONTACT_FIELDS, ContactDraft
from contacthub.domain.search import SearchTerm, prefix_upper_bound, search_keys
from contacthub.storage.tables import SEARCH_KEYS, contact_totals, contacts

_PUBLIC_COLUMNS = (
    contacts.c.seq,
    contacts.c.contact_id,
    *(contacts.c[field] for field in CONTACT_FIELDS),
    contacts.c.created_at,
    contacts.c.updated_at,
)
_PREFIX_KEYS = (
    contacts.c.first_name_key,
    contacts.c.last_name_key,
    contacts.c.company_key,
    contacts.c.email_key,
    contacts.c.email_domain_key,
)


# The statements every add runs, built once: building and hashing them anew
# cost more than executing them (measured: ~0.3 ms of a 1-contact add).
_IDS_BY_PHONE = select(contacts.c.phone_no, contacts.c.contact_id).where(
    contacts.c.app_id == bindparam("app"),
    contacts.c.phone_no.in_(bindparam("phones", expanding=True)),
)
# At the driver's level, like the batch insert: every add runs it, and
# compiling a text() statement anew cost more than running it (py-spy).
_ADD_TO_TOTAL = (
    "INSERT INTO contact_totals (app_id, shard, total) VALUES ({marks}) "
    "ON CONFLICT (app_id, shard) DO UPDATE SET total = contact_totals.total + excluded.total"
)
_ADD_TO_TOTAL_SQL = {
    "sqlite": _ADD_TO_TOTAL.format(marks="?, ?, ?"),
    "postgresql": _ADD_TO_TOTAL.format(marks="%s, %s, %s"),
}
_TOTAL = select(func.coalesce(func.sum(contact_totals.c.total), 0)).where(
    contact_totals.c.app_id == bindparam("app")
)
TOTAL_SHARDS = 32
# Consecutive transactions of a process take consecutive shards, from a
# random start so that processes differ: writers that run at once rarely share one.
_next_shard = itertools.count(random.randrange(TOTAL_SHARDS))


@dataclass(frozen=True, slots=True)
class NewContact:
    contact_id: str
    phone_no: str


def _stored_values(fields: dict[str, Any]) -> dict[str, Any]:
    """A contact's fields plus the search keys derived from them."""
    return {
        **fields,
        **search_keys(
            first_name=fields["first_name"],
            last_name=fields["last_name"],
            company=fields["company"],
            email_id=fields["email_id"],
        ),
    }


def ids_by_phone(connection: Connection, *, app_id: int, phones: Iterable[str]) -> dict[str, str]:
    """The stored contacts among `phones`: number → contact id."""
    rows = connection.execute(_IDS_BY_PHONE, {"app": app_id, "phones": list(set(phones))})
    return {phone: str(contact_id) for phone, contact_id in rows}


class PreparedContact(NamedTuple):
    """A draft made ready to insert: its new id, and its own values in `_INSERT_COLUMNS` order.

    Preparing runs before the write transaction (`prepare_new`), so that the
    writers queued for the database wait only for SQL, not for this Python
    (measured: a third of the time a 100-contact batch held SQLite's writer).
    Ids are UUIDv7s made here; their order need not match the commit order,
    since pages follow `seq`, which the insert assigns.
    """

    contact_id: str
    phone_no: str
    # The id as SQLAlchemy's Uuid type stores it where the database has no UUID
    # type (its 32 hex digits: the driver-level insert must do the same), then
    # the contact's fields and search keys.
    row: tuple[str | None, ...]


_draft_fields = operator.attrgetter(*CONTACT_FIELDS)


def prepare_new(drafts: Sequence[ContactDraft]) -> list[PreparedContact]:
    prepared = []
    for draft, (id_hex, contact_id) in zip(drafts, new_contact_ids(len(drafts)), strict=True):
        keys = search_keys(
            first_name=draft.first_name,
            last_name=draft.last_name,
            company=draft.company,
            email_id=draft.email_id,
        )
        row = (id_hex, *_draft_fields(draft), *(keys[key] for key in SEARCH_KEYS))
        prepared.append(PreparedContact(contact_id, draft.phone_no, row))
    return prepared


_UUID7_VERSION = 0x7 << 76
_UUID_VARIANT = 0b10 << 62
_RAND_B = (1 << 62) - 1


def new_contact_ids(count: int) -> list[tuple[str, str]]:
    """`count` new UUIDv7s (RFC 9562), each as 32 hex digits and in its canonical text.

    One clock reading and one read of the system's random source serve the
    whole batch: `uuid6.uuid7()`, with the UUID object's text and hex, was 9%
    of the CPU of a 100-contact add (py-spy). The ids of a batch share their
    millisecond and are told apart by 74 random bits.
    """
    unix_ms = time.time_ns() // 1_000_000
    randomness = os.urandom(10 * count)
    ids = []
    for start in range(0, 10 * count, 10):
        random_bits = int.from_bytes(randomness[start : start + 10], "big")
        value = (
            (unix_ms << 80)
            | _UUID7_VERSION
            | (random_bits >> 68) << 64  # rand_a: 12 bits
            | _UUID_VARIANT
            | random_bits & _RAND_B  # rand_b: 62 bits
        )
        digits = f"{value:032x}"
        text = f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
        ids.append((digits, text))
    return ids


class Inserted(NamedTuple):
    created: list[NewContact]  # the contacts that went in, in batch order
    taken: dict[str, str]  # number → the stored contact that kept one of them out


def insert_new(
    connection: Connection, *, app_id: int, prepared: Sequence[PreparedContact], now_ms: int
) -> Inserted:
    """Insert the contacts in one statement; say which went in and which numbers were taken.

    A contact whose number is already stored is left out rather than failing
    the statement; the caller decides whether the transaction may stand.
    """
    if not prepared:
        return Inserted([], {})
    shared = (app_id, now_ms, now_ms)
    if connection.dialect.name == "sqlite":
        sql = _sqlite_insert_sql(len(prepared))
        parameters: tuple[Any, ...] = (*shared, *chain.from_iterable(c.row for c in prepared))
    else:
        rows = json.dumps([(c.contact_id, *c.row[1:]) for c in prepared], ensure_ascii=False)
        sql, parameters = _POSTGRES_INSERT_SQL, (*shared, rows)
    kept, taken = prepared, {}
    # The count of rows inserted, not RETURNING: SQLite hands each returned row
    # over in a call of its own that gives up the GIL, and the writer then
    # waits to get it back (~1/5 of the time a 100-contact batch held the
    # writer turn). A number taken already is rare; then the ids tell.
    if connection.exec_driver_sql(sql, parameters).rowcount < len(prepared):
        stored = ids_by_phone(connection, app_id=app_id, phones=[c.phone_no for c in prepared])
        kept = [c for c in prepared if stored.get(c.phone_no) == c.contact_id]
        went_in = {c.phone_no for c in kept}
        taken = {phone: id_ for phone, id_ in stored.items() if phone not in went_in}
    _adjust_total(connection, app_id=app_id, delta=len(kept))
    return Inserted([NewContact(c.contact_id, c.phone_no) for c in kept], taken)


# The insert of a batch, at the driver's level, built from constants only
# (every value is a bound parameter). SQLAlchemy's executemany spent ~10 µs
# per row building parameters, a sixth of a 100-contact add (py-spy). SQLite
# takes one flat tuple for a multi-row VALUES. psycopg adapts each parameter
# on its own, in Python: 1,500 for a batch took half the server's CPU for an
# add, and as one array per column still a third (py-spy). So PostgreSQL gets
# the rows as one JSON array of arrays, which the json module writes in C and
# json_array_elements() unpacks in the server.
_INSERT_COLUMNS = (
    "contact_id",
    *CONTACT_FIELDS,
    *SEARCH_KEYS,
    # Last, as the values a batch's rows share (PreparedContact.row comes before).
    "app_id",
    "created_at",
    "updated_at",
)
_INSERT_SQL = "INSERT INTO contacts ({columns}) {rows} ON CONFLICT DO NOTHING"
_JSON_ROWS = "SELECT (r->>0)::uuid, {fields}, %s, %s, %s FROM json_array_elements(%s::json) r"
_POSTGRES_INSERT_SQL = _INSERT_SQL.format(
    columns=", ".join(_INSERT_COLUMNS),
    rows=_JSON_ROWS.format(
        fields=", ".join(f"r->>{i}" for i in range(1, len(CONTACT_FIELDS) + len(SEARCH_KEYS) + 1))
    ),
)


@cache
def _sqlite_insert_sql(rows: int) -> str:
    """Numbered parameters: ?1 to ?3 are the shared values, named by every row once."""
    width = len(_INSERT_COLUMNS) - 3
    shared = ", ".join(f"?{number}" for number in (1, 2, 3))
    values = ", ".join(
        f"({', '.join(f'?{4 + row * width + column}' for column in range(width))}, {shared})"
        for row in range(rows)
    )
    return _INSERT_SQL.format(columns=", ".join(_INSERT_COLUMNS), rows=f"VALUES {values}")


def get_many(
    connection: Connection, *, app_id: int, contact_ids: Iterable[str]
) -> dict[str, RowMapping]:
    """The organization's contacts among `contact_ids`, by id; others' are simply absent."""
    rows = connection.execute(
        select(*_PUBLIC_COLUMNS).where(
            contacts.c.app_id == app_id,
            contacts.c.contact_id.in_([uuid.UUID(contact_id) for contact_id in contact_ids]),
        )
    ).mappings()
    return {str(row["contact_id"]): row for row in rows}


def replace_fields(
    connection: Connection, *, app_id: int, changed: Sequence[dict[str, Any]], now_ms: int
) -> bool:
    """Write each contact's full new field values; False if a unique number was taken meanwhile.

    Each dict holds `contact_id` and every contact field. On False nothing of
    this call stands (it ran in a savepoint), and the caller answers 409.
    """
    if not changed:
        return True
    statement = (
        contacts.update()
        .where(contacts.c.app_id == app_id, contacts.c.contact_id == bindparam("match_id"))
        .values(
            {
                **{
                    column: bindparam(column)
                    for column in (*CONTACT_FIELDS, *(key.name for key in _PREFIX_KEYS))
                },
                "updated_at": now_ms,
            }
        )
    )
    parameters = [
        {
            "match_id": uuid.UUID(values["contact_id"]),
            **_stored_values({field: values[field] for field in CONTACT_FIELDS}),
        }
        for values in changed
    ]
    try:
        with connection.begin_nested():
            connection.execute(statement, parameters)
    except sa_exc.IntegrityError:
        return False
    return True


def delete_many(connection: Connection, *, app_id: int, contact_ids: Sequence[str]) -> int:
    result = connection.execute(
        delete(contacts).where(
            contacts.c.app_id == app_id,
            contacts.c.contact_id.in_([uuid.UUID(contact_id) for contact_id in contact_ids]),
        )
    )
    deleted = int(result.rowcount)
    _adjust_total(connection, app_id=app_id, delta=-deleted)
    return deleted


def _adjust_total(connection: Connection, *, app_id: int, delta: int) -> None:
    """Keep the organization's total (tables.contact_totals) with the rows, in the same transaction.

    Called after the rows are written, so a transaction takes its shard's row
    lock last and holds it only until its commit: writers that meet on a shard
    queue there, and cannot deadlock on it.
    """
    if delta:
        shard = next(_next_shard) % TOTAL_SHARDS
        sql = _ADD_TO_TOTAL_SQL[connection.dialect.name]
        connection.exec_driver_sql(sql, (app_id, shard, delta))


def _alternatives(search: SearchTerm) -> list[ColumnElement[bool]]:
    """What a search matches, one condition per field, in the order of _PREFIX_KEYS."""
    bound = prefix_upper_bound(search.folded)
    alternatives: list[ColumnElement[bool]] = [
        and_(key >= search.folded, key < bound) if bound is not None else key >= search.folded
        for key in _PREFIX_KEYS
    ]
    if search.digits:
        alternatives.append(contacts.c.phone_no.contains(search.digits))
    return alternatives


def _matching(app_id: int, search: SearchTerm | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [contacts.c.app_id == app_id]
    if search is not None:
        conditions.append(or_(*_alternatives(search)))
    return conditions


def get(connection: Connection, *, app_id: int, contact_id: str) -> RowMapping | None:
    return get_many(connection, app_id=app_id, contact_ids=[contact_id]).get(contact_id)


def page(
    connection: Connection, *, app_id: int, after: int, limit: int, search: SearchTerm | None
) -> list[RowMapping]:
    """Up to `limit` matching contacts created after position `after`, in creation order."""
    return list(
        connection.execute(
            select(*_PUBLIC_COLUMNS)
            .where(*_matching(app_id, search), contacts.c.seq > after)
            .order_by(contacts.c.seq)
            .limit(limit)
        ).mappings()
    )


def count(connection: Connection, *, app_id: int, search: SearchTerm | None = None) -> int:
    """The organization's total (kept, not counted), or the number of search matches."""
    if search is None:
        return int(connection.execute(_TOTAL, {"app": app_id}).scalar_one())
    # Counting the OR of five conditions would read a table page for nearly
    # every match (150 ms for 160,000 matches of a million). Instead each
    # condition counts the contacts it matches that no earlier one does: the
    # sets are disjoint, so the sum is exact, and each count is answered from
    # an index that carries the earlier keys too, without touching the table
    # (55 ms for the same search).
    alternatives = _alternatives(search)
    parts = [
        select(func.count())
        .select_from(contacts)
        .where(
            contacts.c.app_id == app_id,
            condition,
            *([or_(*alternatives[:position]).is_not(true())] if position else []),
        )
        .scalar_subquery()
        for position, condition in enumerate(alternatives)
    ]
    total_matches: int = connection.execute(select(reduce(operator.add, parts))).scalar_one()
    return total_matches
