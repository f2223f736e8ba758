"""Connections to the database, and the one way to run a transaction.

SQLite (the embedded default) runs in WAL mode with foreign keys on,
`synchronous=FULL` so that an acknowledged commit survives a power cut, and a
busy timeout for writers from outside contacthub. contacthub's own writers,
in any number of threads and processes, take turns on a lock first (a flock
on `<database>.writer-lock`), so they never poll each other. A writing
transaction starts with `BEGIN IMMEDIATE`: it takes the write lock up front,
so two writers queue on the busy timeout instead of deadlocking on a lock
upgrade, which SQLite could only answer with "database is locked".

On SQLite, the writes of one process are committed in groups (`Database.write`):
SQLite runs one writer at a time anyway, so while one transaction commits,
the writes that arrive queue up, and the next writer runs all of them in one
transaction, each in a savepoint of its own, and commits once. Every write
still gets its own answer, and one that fails takes only its own savepoint
back. Many small writes then share one fsync instead of paying one each.
PostgreSQL runs concurrent transactions side by side, so there each write
commits on its own.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry

from contacthub.errors import ServiceUnavailable

R = TypeVar("R")

DEFAULT_DATABASE_URL = "sqlite:///./contacthub.db"
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


class _WriterTurn:
    """One writer of a SQLite database at a time: a lock across threads, flock across processes.

    SQLite itself lets one writer in and makes the others poll with growing
    sleeps, which is unfair: under load some writers lose the race for
    seconds (measured: p99 5.8 s with 8 clients, 1.8 s with 2 processes).
    Writers that queue here first are served in turn instead, and find the
    database free when they begin. The kernel drops a killed process's flock.
    """

    def __init__(self, database_path: str | None) -> None:
        self._threads = threading.Lock()
        in_memory = not database_path or database_path == ":memory:"
        self._lock_path = None if in_memory else f"{database_path}.writer-lock"
        self._lock_file: int | None = None

    def __enter__(self) -> None:
        self._threads.acquire()
        if self._lock_path is None:
            return
        try:
            if self._lock_file is None:
                self._lock_file = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def __exit__(self, *_exc: object) -> None:
        try:
            if self._lock_file is not None:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        finally:
            self._threads.release()


class _QueuedWrite(Generic[R]):
    """A write waiting for its group's commit, and then what came of it."""

    __slots__ = ("done", "error", "result", "work")

    def __init__(self, work: Callable[[Connection], R]) -> None:
        self.work = work
        self.done = False
        self.result: R | None = None
        self.error: BaseException | None = None

    def outcome(self) -> R:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]  # set whenever error is not


class Database:
    """The engine of one database URL, and the transaction scope every request uses."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.engine = create_database_engine(url, **engine_options)
        self._groups_writes = self.engine.dialect.name == "sqlite"
        self._writer_turn: AbstractContextManager[Any] = (
            _WriterTurn(self.engine.url.database) if self._groups_writes else nullcontext()
        )
        self._queue: list[_QueuedWrite[Any]] = []
        self._queue_lock = threading.Lock()

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Connection]:
        """One transaction: committed if the block returns, rolled back if it raises.

        Connection loss and lock time-outs become ServiceUnavailable: they are
        the database's trouble, not the client's, and a retry may succeed.
        """
        with self._writer_turn if write else nullcontext(), self._open(write=write) as connection:
            yield connection

    def write(self, work: Callable[[Connection], R]) -> R:
        """Run `work(connection)` in a writing transaction, committed if it returns.

        On SQLite the transaction may be shared with other writes (module doc).
        """
        if not self._groups_writes:
            with self.transaction(write=True) as connection:
                return work(connection)
        mine = _QueuedWrite(work)
        with self._queue_lock:
            self._queue.append(mine)
        with self._writer_turn:
            # Whoever holds the turn commits everything queued, so by the time
            # a writer gets the turn its write may have been committed already.
            if not mine.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._commit_group(group)
        return mine.outcome()

    def _commit_group(self, group: list[_QueuedWrite[Any]]) -> None:
        try:
            with self._open(write=True) as connection:
                if len(group) == 1:
                    group[0].result = group[0].work(connection)
                else:
                    for queued in group:
                        _run_in_savepoint(connection, queued)
        except BaseException as error:
            # Nothing of the group was committed: every write fails, with its
            # own error if it had one, else with the group's.
            for queued in group:
                queued.error = queued.error or error
            if not isinstance(error, Exception):
                raise
        finally:
            for queued in group:
                queued.done = True

    @contextmanager
    def _open(self, *, write: bool) -> Iterator[Connection]:
        try:
            with self.engine.connect() as connection:
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


def _run_in_savepoint(connection: Connection, queued: _QueuedWrite[Any]) -> None:
    """Run one write of a group; if it raises, only its own changes are undone."""
    try:
        with connection.begin_nested():
            queued.result = queued.work(connection)
    except (exc.OperationalError, exc.InterfaceError):
        raise  # the connection itself is in trouble: the whole group fails
    except Exception as error:
        queued.error = error
