"""Connections to the database, and the one way to run a transaction.

SQLite (the embedded default) runs in WAL mode with foreign keys on,
`synchronous=FULL` so that an acknowledged commit survives a power cut, and a
busy timeout for writers from outside contacthub. contacthub's own writers,
in any number of threads and processes, take turns on a lock first (a flock
on `<database>.writer-lock`, `_WriterTurn`), so they never poll each other. A writing
transaction starts with `BEGIN IMMEDIATE`: it takes the write lock up front,
so two writers queue on the busy timeout instead of deadlocking on a lock
upgrade, which SQLite could only answer with "database is locked".

On SQLite, the writes of one process are committed in groups (`Database.write`
and `write_async`): SQLite runs one writer at a time anyway, so one thread of
the process, its writer, does all of them. While it commits, the writes that
arrive queue up, and it then runs all of them in one transaction, each in a
savepoint of its own, and commits once. Every write still gets its own
answer, and one that fails takes only its own savepoint back. Many small
writes then share one fsync instead of paying one each, and a request waits
for its answer on the event loop instead of holding a thread of its own
(measured: a thread per write queued on the writer turn and woke one by one).
PostgreSQL runs concurrent transactions side by side, so there each write
commits on its own, in a thread of the pool.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from typing import Any, Generic, TypeVar

from anyio import to_thread
from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry

from contacthub.errors import ContactHubError, ServiceUnavailable

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


class _WriterTurn:
    """One writer of a SQLite database at a time: a lock across threads, flock across processes.

    SQLite itself lets one writer in and makes the others poll with growing
    sleeps, which is unfair: under load some writers lose the race for
    seconds (measured: p99 5.8 s with 8 clients, 1.8 s with 2 processes).
    Writers that queue here first are served in turn instead, and find the
    database free when they begin. The kernel drops a killed process's locks.

    A lock alone is unfair too: the kernel wakes a waiter, but the lock goes
    to whoever asks first, and the process that has just released it and has
    more to write asks again before the woken waiter runs. On a busy machine
    that kept a process waiting for 100 to 400 ms (measured with two worker
    processes). So processes queue first, in ticket order, in
    `<database>.writer-queue`: its first bytes count the tickets (under a
    byte-range lock of their own, held only to take one), and each ticket
    holds a byte of its own while it waits and writes. A writer waits for the
    byte of the ticket before its own, which nobody else asks for, so the
    turn passes in order. The flock on `<database>.writer-lock` stays the
    exclusion itself: if a queued process dies, the one behind it goes on to
    wait there.

    The queue's locks belong to the process (POSIX), so they order processes;
    the threads of one process take turns on `_threads` first.
    """

    def __init__(self, database_path: str | None) -> None:
        self._threads = threading.Lock()
        in_memory = not database_path or database_path == ":memory:"
        self._paths = (
            None if in_memory else (f"{database_path}.writer-queue", f"{database_path}.writer-lock")
        )
        self._files: tuple[int, int] | None = None
        self._ticket_byte = 0

    def __enter__(self) -> None:
        self._threads.acquire()
        if self._paths is None:
            return
        try:
            if self._files is None:
                queue_path, turn_path = self._paths
                self._files = (_lock_file(queue_path), _lock_file(turn_path))
            queue, turn = self._files
            mine, before = _take_ticket(queue)
            try:
                _lock_byte(queue, fcntl.LOCK_EX, before)  # the writer before us is done
                _lock_byte(queue, fcntl.LOCK_UN, before)
                fcntl.flock(turn, fcntl.LOCK_EX)
            except BaseException:
                _lock_byte(queue, fcntl.LOCK_UN, mine)
                raise
            self._ticket_byte = mine
        except BaseException:
            self._threads.release()
            raise

    def __exit__(self, *_exc: object) -> None:
        try:
            if self._files is not None:
                queue, turn = self._files
                fcntl.flock(turn, fcntl.LOCK_UN)
                _lock_byte(queue, fcntl.LOCK_UN, self._ticket_byte)
        finally:
            self._threads.release()


# The ticket counter's bytes, then one byte per ticket, reused every
# _TICKET_BYTES tickets: far more than processes ever wait at once.
_COUNTER_BYTES = 8
_TICKET_BYTES = 4096


def _take_ticket(queue: int) -> tuple[int, int]:
    """Hold a byte for the next ticket; return it, and the byte of the ticket before."""
    fcntl.lockf(queue, fcntl.LOCK_EX, _COUNTER_BYTES, 0)
    try:
        counted = os.pread(queue, _COUNTER_BYTES, 0)
        ticket = int.from_bytes(counted, "little") if len(counted) == _COUNTER_BYTES else 0
        os.pwrite(queue, (ticket + 1).to_bytes(_COUNTER_BYTES, "little"), 0)
        mine = _COUNTER_BYTES + ticket % _TICKET_BYTES
        _lock_byte(queue, fcntl.LOCK_EX, mine)
    finally:
        fcntl.lockf(queue, fcntl.LOCK_UN, _COUNTER_BYTES, 0)
    return mine, _COUNTER_BYTES + (ticket - 1) % _TICKET_BYTES


def _lock_byte(queue: int, operation: int, offset: int) -> None:
    fcntl.lockf(queue, operation, 1, offset)


def _lock_file(path: str) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


class _QueuedWrite(Generic[R]):
    """A write waiting for its group's commit, and then what came of it."""

    __slots__ = ("error", "result", "settled", "work")

    def __init__(self, work: Callable[[Connection], R], settled: Callable[[], None]) -> None:
        self.work = work
        self.settled = settled  # called by the writer once result or error is set
        self.result: R | None = None
        self.error: BaseException | None = None

    def outcome(self) -> R:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]  # set whenever error is not


class _GroupWriter:
    """The thread that runs a SQLite database's writes for this process, a group at a time."""

    def __init__(
        self,
        turn: AbstractContextManager[Any],
        commit_group: Callable[[list[_QueuedWrite[Any]]], None],
    ) -> None:
        self._turn = turn
        self._commit_group = commit_group
        self._queue: list[_QueuedWrite[Any]] = []
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def submit(self, queued: _QueuedWrite[Any]) -> None:
        with self._ready:
            if self._stopping:
                raise ServiceUnavailable()
            self._queue.append(queued)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="contacthub-writer", daemon=True
                )
                self._thread.start()
            self._ready.notify()

    def stop(self) -> None:
        """Finish the writes queued so far and end the thread; a later write starts another."""
        with self._ready:
            self._stopping = True
            self._ready.notify()
            thread = self._thread
        if thread is not None:
            thread.join()
        with self._ready:
            self._thread, self._stopping = None, False

    def _run(self) -> None:
        while self._work_waiting():
            try:
                self._turn.__enter__()
            except Exception as error:
                group = self._take()
                for queued in group:
                    queued.error = ServiceUnavailable()
                    queued.error.__cause__ = error
            else:
                try:
                    # Taken only now: what queued while another process held
                    # the turn joins this group.
                    group = self._take()
                    self._commit_group(group)
                finally:
                    self._turn.__exit__(None, None, None)
            for queued in group:
                # RuntimeError: its event loop has closed, nobody waits for the answer.
                with suppress(RuntimeError):
                    queued.settled()

    def _work_waiting(self) -> bool:
        with self._ready:
            while not self._queue and not self._stopping:
                self._ready.wait()
            return bool(self._queue)

    def _take(self) -> list[_QueuedWrite[Any]]:
        with self._ready:
            group, self._queue = self._queue, []
            return group


class Database:
    """The engine of one database URL, and the transaction scope every request uses."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.engine = create_database_engine(url, **engine_options)
        # SQLite: one writer thread commits the process's writes in groups.
        self.groups_writes = self.engine.dialect.name == "sqlite"
        self._writer_turn: AbstractContextManager[Any] = (
            _WriterTurn(self.engine.url.database) if self.groups_writes else nullcontext()
        )
        self._writer = _GroupWriter(self._writer_turn, self._commit_group)
        self._writer_connection: Connection | None = None

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
        if not self.groups_writes:
            with self.transaction(write=True) as connection:
                return work(connection)
        done = threading.Event()
        mine = _QueuedWrite(work, done.set)
        self._writer.submit(mine)
        done.wait()
        return mine.outcome()

    async def write_async(self, work: Callable[[Connection], R]) -> R:
        """`write`, awaited from the event loop."""
        if not self.groups_writes:
            return await to_thread.run_sync(self.write, work)
        loop = asyncio.get_running_loop()
        answered: asyncio.Future[None] = loop.create_future()

        def settled() -> None:
            loop.call_soon_threadsafe(_resolve, answered)

        mine = _QueuedWrite(work, settled)
        self._writer.submit(mine)
        # Shielded: a request cancelled now (its client gone) cannot take back
        # a write the writer may be committing; its answer is simply not sent.
        await asyncio.shield(answered)
        return mine.outcome()

    def _commit_group(self, group: list[_QueuedWrite[Any]]) -> None:
        try:
            connection = self._kept_writer_connection()
            with _unavailable_on_trouble(), connection.begin():
                if len(group) == 1:
                    group[0].result = group[0].work(connection)
                else:
                    for queued in group:
                        _run_in_savepoint(connection, queued)
        except BaseException as error:  # the writer thread must live on
            if not isinstance(error, ContactHubError) or isinstance(error, ServiceUnavailable):
                # Not a refusal of the work's own: the connection may be what
                # failed, and the next group opens another.
                self._close_writer_connection()
            # Nothing of the group was committed: every write fails, with its
            # own error if it had one, else with the group's.
            for queued in group:
                queued.error = queued.error or error

    def _kept_writer_connection(self) -> Connection:
        """The writer thread's connection, kept from one group to the next.

        Taking a connection from the pool and giving it back for every group
        (which rolls it back once more) was ~8% of the CPU of a single add,
        spent while holding the writer turn (py-spy).
        """
        if self._writer_connection is None:
            with _unavailable_on_trouble():
                self._writer_connection = self._connect(write=True)
        return self._writer_connection

    def _close_writer_connection(self) -> None:
        connection, self._writer_connection = self._writer_connection, None
        if connection is not None:
            with suppress(exc.SQLAlchemyError):
                connection.close()

    @contextmanager
    def _open(self, *, write: bool) -> Iterator[Connection]:
        with (
            _unavailable_on_trouble(),
            self._connect(write=write) as connection,
            connection.begin(),
        ):
            yield connection

    def _connect(self, *, write: bool) -> Connection:
        connection = self.engine.connect()
        if write:  # read by _configure_sqlite's BEGIN IMMEDIATE
            connection.execution_options(**{WRITE_OPTION: True})
        return connection

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except exc.SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        self._writer.stop()
        self._close_writer_connection()
        self.engine.dispose()


@contextmanager
def _unavailable_on_trouble() -> Iterator[None]:
    """Connection loss and lock time-outs: the database's trouble, not the client's."""
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError, exc.TimeoutError) as error:
        raise ServiceUnavailable() from error


def _resolve(answered: asyncio.Future[None]) -> None:
    if not answered.done():
        answered.set_result(None)


def _run_in_savepoint(connection: Connection, queued: _QueuedWrite[Any]) -> None:
    """Run one write of a group; if it raises, only its own changes are undone.

    The savepoint is SQLite's own, set through the driver: SQLAlchemy's
    nested transactions cost a sixth of the CPU of a single add (py-spy).
    """
    driver = connection.connection.driver_connection
    _on_driver(driver, "SAVEPOINT group_write")
    try:
        queued.result = queued.work(connection)
    except (exc.OperationalError, exc.InterfaceError):
        raise  # the connection itself is in trouble: the whole group fails
    except Exception as error:
        queued.error = error
        _on_driver(driver, "ROLLBACK TO group_write")
    _on_driver(driver, "RELEASE group_write")


def _on_driver(driver: Any, sql: str) -> None:
    try:
        driver.execute(sql)
    except sqlite3.Error as error:
        raise ServiceUnavailable() from error
