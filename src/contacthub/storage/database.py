"""The one way to run a transaction on the database, and the writes of a process grouped.

On SQLite, contacthub's own writers, in any number of threads and processes,
take turns (storage/writer_turn.py) so they never poll each other, and the
writes of one process are committed in groups (storage/group_commit.py):
SQLite runs one writer at a time anyway, so one thread of the process, its
writer, runs them all, many sharing one transaction and one fsync, each with
its own answer. A request awaits its answer on the event loop instead of
holding a thread. PostgreSQL runs concurrent transactions side by side, so
there each write commits on its own, in a thread of the pool.

What may be called from inside a write or a transaction: nothing of this
Database. `write()` from inside a write would wait for the writer thread,
which is running it: it raises RuntimeError instead.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from typing import Any, TypeVar

from anyio import to_thread
from sqlalchemy import Connection, exc

from contacthub.errors import ContactHubError, ServiceUnavailable
from contacthub.storage.engine import WRITE_OPTION, create_database_engine, unavailable_on_trouble
from contacthub.storage.group_commit import GroupWriter, QueuedWrite, resolve, run_in_savepoint
from contacthub.storage.writer_turn import WriterTurn

R = TypeVar("R")


class Database:
    """The engine of one database URL, and the transaction scope every request uses."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.engine = create_database_engine(url, **engine_options)
        # SQLite: one writer thread commits the process's writes in groups.
        self.groups_writes = self.engine.dialect.name == "sqlite"
        self._writer_turn: AbstractContextManager[Any] = (
            WriterTurn(self.engine.url.database) if self.groups_writes else nullcontext()
        )
        self._writer = GroupWriter(self._writer_turn, self._commit_group)
        self._writer_connection: Connection | None = None

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Connection]:
        """One transaction: committed if the block returns, rolled back if it raises.

        Connection loss and lock time-outs become ServiceUnavailable: they are
        the database's trouble, not the client's, and a retry may succeed.
        """
        if write and self._writer.is_current_thread():
            raise RuntimeError("a writing transaction inside a write would wait for itself")
        with self._writer_turn if write else nullcontext(), self._open(write=write) as connection:
            yield connection

    def write(self, work: Callable[[Connection], R]) -> R:
        """Run `work(connection)` in a writing transaction, committed if it returns.

        On SQLite the transaction may be shared with other writes (module doc).
        """
        if not self.groups_writes:
            with self.transaction(write=True) as connection:
                return work(connection)
        if self._writer.is_current_thread():
            raise RuntimeError("Database.write() inside a write would wait for itself")
        done = threading.Event()
        mine = QueuedWrite(work, done.set)
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
            loop.call_soon_threadsafe(resolve, answered)

        mine = QueuedWrite(work, settled)
        self._writer.submit(mine)
        # Shielded: a request cancelled now (its client gone) cannot take back
        # a write the writer may be committing; its answer is simply not sent.
        await asyncio.shield(answered)
        return mine.outcome()

    def _commit_group(self, group: list[QueuedWrite[Any]]) -> None:
        try:
            connection = self._kept_writer_connection()
            with unavailable_on_trouble(), connection.begin():
                if len(group) == 1:
                    group[0].result = group[0].work(connection)
                else:
                    for queued in group:
                        run_in_savepoint(connection, queued)
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
        """The writer thread's connection, kept from one group to the next: taking one from
        the pool for every group cost CPU while holding the writer turn."""
        if self._writer_connection is None:
            with unavailable_on_trouble():
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
            unavailable_on_trouble(),
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
