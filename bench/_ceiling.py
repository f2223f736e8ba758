"""The raw insert ceiling: the database storing the same rows itself, with no HTTP and no server.

The schema is contacthub's own: a fresh database migrated by `contacthub db
upgrade`, so `contacts` has exactly the server's columns, indexes, unique
constraints and foreign key. One `apps` row is written for the foreign key.
Rows are the contacts the wrk script sends (bench/add_contacts.lua), filled
as the server fills them: a time-ordered UUIDv7 `contact_id`, creation and
update times, and the case-folded search keys computed by the server's own
`contacthub.domain.search.search_keys`.
What the server does besides (parsing and checking the request, looking for
duplicates, keeping the organization's total in `contact_totals`) is not done
here: that is the point.

- SQLite: one connection (SQLite has one writer at a time), WAL,
  `synchronous=FULL` and `foreign_keys=ON`, as the server sets them; each
  transaction is `BEGIN`, one `executemany` of its rows, `COMMIT`.
- PostgreSQL: N threads, each with its own psycopg connection, each
  transaction one `executemany` (psycopg pipelines it) and a commit, with
  PostgreSQL's default `synchronous_commit = on`, which the server keeps too.

Each runs for a fixed time; the figures are rows and commits per second and
the transaction's p50/p99 time. On SQLite the seconds are the transactions'
own, back to back: making the rows in Python between them (about 5 µs a row)
is left out. On PostgreSQL they are wall-clock seconds, since the threads'
transactions overlap; each thread makes its own rows, a few per cent of one
core at these rates.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from random import getrandbits
from typing import Any

import psycopg
from _harness import migrate, nearest_rank, postgres_database

from contacthub.domain.search import search_keys

CONTACT_COLUMNS = (
    "contact_id", "app_id", "phone_no", "first_name", "last_name", "email_id", "company",
    "job_title", "created_at", "updated_at", "first_name_key", "last_name_key", "company_key",
    "email_key", "email_domain_key",
)  # fmt: skip
GENERATED_COLUMNS = {"seq"}  # the primary key the database assigns
APP_ID = 1


@dataclass(frozen=True)
class Ceiling:
    database: str
    rows_per_commit: int
    connections: int
    rows: int
    seconds: float
    commit_ms: list[float] = field(repr=False)
    repeat: int = 0  # the round of the target cells it was measured in (bench/_results.py)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds

    @property
    def commits_per_second(self) -> float:
        return len(self.commit_ms) / self.seconds

    @property
    def p50_ms(self) -> float:
        return nearest_rank(self.commit_ms, 0.5)

    @property
    def p99_ms(self) -> float:
        return nearest_rank(self.commit_ms, 0.99)


def uuid7_ints(count: int) -> list[int]:
    """`count` UUIDv7 (RFC 9562) values of this millisecond, as integers.

    The same layout and time order as the server's own
    (`contacthub.storage.contacts.new_contact_ids`), without its text forms.
    """
    ms = time.time_ns() // 1_000_000
    base = (ms << 80) | (0x7 << 76) | (0b10 << 62)
    return [base | (getrandbits(12) << 64) | getrandbits(62) for _ in range(count)]


def contact_rows(
    worker: int, start: int, count: int, uuid_of: Callable[[int], Any]
) -> list[tuple[Any, ...]]:
    """Rows in CONTACT_COLUMNS order; the fields are those of bench/add_contacts.lua.

    `uuid_of` turns a UUID's integer into what the database driver stores.
    """
    now_ms = time.time_ns() // 1_000_000
    rows = []
    for counter, contact_id in zip(range(start, start + count), uuid7_ints(count), strict=True):
        national = f"9{worker:02d}{counter:07d}"
        fields = {
            "first_name": "Bench",
            "last_name": f"Contact {national}",
            "email_id": f"c{national}@example.com",
            "company": "Acme Corp",
        }
        row = {
            "contact_id": uuid_of(contact_id),
            "app_id": APP_ID,
            "phone_no": f"91{national}",
            "job_title": "Tester",
            "created_at": now_ms,
            "updated_at": now_ms,
            **fields,
            **search_keys(**fields),
        }
        rows.append(tuple(row[column] for column in CONTACT_COLUMNS))
    return rows


def _uuid(value: int) -> uuid.UUID:
    return uuid.UUID(int=value)


def _check_columns(present: Sequence[str]) -> None:
    """Refuse to measure a table this module would not fill the way the server does."""
    unknown = set(present) - set(CONTACT_COLUMNS) - GENERATED_COLUMNS
    missing = set(CONTACT_COLUMNS) - set(present)
    if unknown or missing:
        raise RuntimeError(
            "bench/_ceiling.py is out of step with contacthub's contacts table: "
            f"columns it does not fill {sorted(unknown)}, columns it fills that are gone "
            f"{sorted(missing)}; update CONTACT_COLUMNS and contact_rows"
        )


APP_COLUMNS = ("id", "name", "secret_digest", "created_at")


def _app_row() -> tuple[Any, ...]:
    return (APP_ID, "ceiling", "0" * 64, time.time_ns() // 1_000_000)


def _insert(table: str, columns: Sequence[str], placeholder: str) -> str:
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join([placeholder] * len(columns))})"
    )


def sqlite_ceiling(directory: Path, rows_per_commit: int, seconds: float) -> Ceiling:
    """Rows per second into a fresh, migrated SQLite file, `rows_per_commit` per transaction."""
    path = directory / f"ceiling-{rows_per_commit}.db"
    migrate(f"sqlite:///{path}")
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
            connection.execute(f"PRAGMA {pragma}")
        _check_columns([row[1] for row in connection.execute("PRAGMA table_info(contacts)")])
        connection.execute(_insert("apps", APP_COLUMNS, "?"), _app_row())
        insert = _insert("contacts", CONTACT_COLUMNS, "?")
        commit_ms: list[float] = []
        written = 0
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            # The server stores contact ids as 32 hex digits on SQLite (SQLAlchemy's Uuid).
            rows = contact_rows(0, written, rows_per_commit, "{:032x}".format)
            began = time.perf_counter()
            connection.execute("BEGIN")
            connection.executemany(insert, rows)
            connection.execute("COMMIT")
            commit_ms.append((time.perf_counter() - began) * 1000)
            written += rows_per_commit
    finally:
        connection.close()
    # Only the transactions count: one connection does nothing else while one runs,
    # and the rows are made in Python between them.
    return Ceiling("SQLite", rows_per_commit, 1, written, sum(commit_ms) / 1000, sorted(commit_ms))


def postgres_ceiling(
    admin_url: str, rows_per_commit: int, connections: int, seconds: float
) -> Ceiling:
    """Rows per second into a fresh, migrated PostgreSQL database from `connections` threads."""
    with postgres_database(admin_url) as database_url:
        migrate(database_url)
        with psycopg.connect(database_url, autocommit=True) as connection:
            present = connection.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'contacts'"
            ).fetchall()
            _check_columns([name for (name,) in present])
            connection.execute(_insert("apps", APP_COLUMNS, "%s"), _app_row())
        insert = _insert("contacts", CONTACT_COLUMNS, "%s")
        written = [0] * connections
        commit_ms: list[list[float]] = [[] for _ in range(connections)]
        failures: list[BaseException] = []
        clock: dict[str, float] = {}

        def start_clock() -> None:
            clock["started"] = time.perf_counter()
            clock["deadline"] = clock["started"] + seconds

        # Every thread connects first; the clock starts when the last one is ready.
        ready = threading.Barrier(connections + 1, action=start_clock)

        def worker(index: int) -> None:
            try:
                with psycopg.connect(database_url) as connection:
                    ready.wait()
                    while time.perf_counter() < clock["deadline"]:
                        rows = contact_rows(index, written[index], rows_per_commit, _uuid)
                        began = time.perf_counter()
                        with connection.cursor() as cursor:
                            if rows_per_commit == 1:
                                cursor.execute(insert, rows[0])
                            else:
                                cursor.executemany(insert, rows)
                        connection.commit()
                        commit_ms[index].append((time.perf_counter() - began) * 1000)
                        written[index] += rows_per_commit
            except BaseException as exc:
                failures.append(exc)
                ready.abort()

        threads = [
            threading.Thread(target=worker, args=(index,), name=f"ceiling-{index}")
            for index in range(connections)
        ]
        for thread in threads:
            thread.start()
        with contextlib.suppress(threading.BrokenBarrierError):
            ready.wait()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - clock.get("started", 0.0)
        if failures:
            raise RuntimeError(f"a PostgreSQL ceiling worker failed: {failures[0]!r}")
    return Ceiling(
        "PostgreSQL",
        rows_per_commit,
        connections,
        sum(written),
        elapsed,
        sorted(ms for per_worker in commit_ms for ms in per_worker),
    )
