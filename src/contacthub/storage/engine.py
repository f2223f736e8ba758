"""The engine of a database URL: drivers, SQLite's settings, and bounded waits.

SQLite (the embedded default) runs in WAL mode with foreign keys on,
`synchronous=FULL` so that an acknowledged commit survives a power cut, and a
busy timeout for writers from outside contacthub. A writing transaction starts
with `BEGIN IMMEDIATE`: it takes the write lock up front, so two writers queue
on the busy timeout instead of deadlocking on a lock upgrade, which SQLite
could only answer with "database is locked".
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry

from contacthub.errors import ServiceUnavailable

# An execution option naming a connection that will write (BEGIN IMMEDIATE on SQLite).
WRITE_OPTION = "contacthub_write"


def sqlalchemy_url(url: str) -> str:
    """Pick our drivers: a plain `postgresql://` URL means psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def create_database_engine(
    url: str,
    *,
    pool_size: int = 10,
    pool_timeout_seconds: int = 10,
    statement_timeout_ms: int | None = None,
    sqlite_busy_timeout_ms: int = 30_000,
) -> Engine:
    """An engine whose every wait is bounded: for a pooled connection, a lock, a statement.

    A wait that runs out raises, and the transaction scope answers 503: a
    request never hangs on the database. `statement_timeout_ms` applies to
    PostgreSQL (SQLite statements cannot block; only its locks can, bounded by
    the busy timeout). Migrations pass none: building an index may take long.
    """
    target = make_url(sqlalchemy_url(url))
    pool = {"pool_size": pool_size, "max_overflow": pool_size, "pool_timeout": pool_timeout_seconds}
    if target.get_backend_name() == "sqlite":
        _create_owner_only(target.database, uri=bool(target.query.get("uri")))
        engine = create_engine(
            target,
            **pool,
            connect_args={"check_same_thread": False, "timeout": sqlite_busy_timeout_ms / 1000},
        )
        _configure_sqlite(engine, sqlite_busy_timeout_ms)
        return engine
    if target.get_backend_name() == "postgresql":
        connect_args: dict[str, Any] = {
            "connect_timeout": 5,
            # No server-side prepared statements: PostgreSQL would then settle
            # on one generic plan for every search, and a generic plan for a
            # selective search reads the whole table (measured: 0.1 ms → 900 ms).
            "prepare_threshold": None,
        }
        if statement_timeout_ms is not None:
            connect_args["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
        return create_engine(target, **pool, pool_pre_ping=True, connect_args=connect_args)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")


def _create_owner_only(path: str | None, *, uri: bool) -> None:
    """Create a new SQLite database file readable by its owner only (0600).

    It holds personal data, password hashes and the cursor-sealing key, and
    SQLite would create it 0644 less the umask; its -wal and -shm files get the
    database file's mode. A file that exists already keeps the mode it has:
    the operator chose it. A missing directory is left to SQLite to report.
    """
    if not path or path == ":memory:" or uri:
        return
    with suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let us issue BEGIN ourselves (below) instead of the driver's own deferred BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL",
            "foreign_keys=ON",
            f"busy_timeout={int(busy_timeout_ms)}",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def unavailable_on_trouble() -> Iterator[None]:
    """Connection loss and lock time-outs: the database's trouble, not the client's."""
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError, exc.TimeoutError) as error:
        raise ServiceUnavailable() from error
