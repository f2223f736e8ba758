"""Connections to the database, and the one way to run a transaction.

SQLite (the embedded default) runs in WAL mode with foreign keys on,
`synchronous=FULL` so that an acknowledged commit survives a power cut, and a
busy timeout so that several server processes can share one file. A writing
transaction starts with `BEGIN IMMEDIATE`: it takes the write lock up front,
so two writers queue on the busy timeout instead of deadlocking on a lock
upgrade, which SQLite could only answer with "database is locked".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry

from contacthub.errors import ServiceUnavailable

DEFAULT_DATABASE_URL = "sqlite:///./contacthub.db"
WRITE_OPTION = "contacthub_write"


def sqlalchemy_url(url: str) -> str:
    """Pick our drivers: a plain `postgresql://` URL means psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def create_database_engine(
    url: str, *, pool_size: int = 10, sqlite_busy_timeout_ms: int = 30_000
) -> Engine:
    target = make_url(sqlalchemy_url(url))
    if target.get_backend_name() == "sqlite":
        engine = create_engine(
            target,
            pool_size=pool_size,
            max_overflow=pool_size,
            connect_args={"check_same_thread": False, "timeout": sqlite_busy_timeout_ms / 1000},
        )
        _configure_sqlite(engine, sqlite_busy_timeout_ms)
        return engine
    if target.get_backend_name() == "postgresql":
        return create_engine(
            target,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            pool_timeout=10,
            # No server-side prepared statements: PostgreSQL would then settle
            # on one generic plan for every search, and a generic plan for a
            # selective search reads the whole table (measured: 0.1 ms → 900 ms).
            connect_args={"connect_timeout": 5, "prepare_threshold": None},
        )
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")


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


class Database:
    """The engine of one database URL, and the transaction scope every request uses."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.engine = create_database_engine(url, **engine_options)
        # SQLite lets one writer in at a time and makes the others poll with
        # growing sleeps, which is unfair: under load some writers lose the
        # race for seconds. Queueing this process's writers on a lock first
        # leaves the busy timeout to arbitrate only between processes.
        self._writer_turn = (
            threading.Lock() if self.engine.dialect.name == "sqlite" else nullcontext()
        )

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Connection]:
        """One transaction: committed if the block returns, rolled back if it raises.

        Connection loss and lock time-outs become ServiceUnavailable: they are
        the database's trouble, not the client's, and a retry may succeed.
        """
        try:
            with self._writer_turn if write else nullcontext(), self.engine.connect() as connection:
                if write:
                    connection.execution_options(**{WRITE_OPTION: True})
                with connection.begin():
                    yield connection
        except (exc.OperationalError, exc.InterfaceError, exc.TimeoutError) as error:
            raise ServiceUnavailable() from error

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except exc.SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()
