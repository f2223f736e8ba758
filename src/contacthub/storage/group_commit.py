"""Group commit: the thread that runs a SQLite database's writes for this process, a group at
a time, in one transaction, each write in a savepoint of its own.

What a write may do: run SQL on the connection it is given, and raise to take its
own changes back. It must not ask the same Database for another write or
transaction: the writer thread would wait for itself (Database.write refuses).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, suppress
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, exc

from contacthub.errors import ServiceUnavailable

R = TypeVar("R")


class QueuedWrite(Generic[R]):
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


class GroupWriter:
    """The thread that runs a SQLite database's writes for this process, a group at a time."""

    def __init__(
        self,
        turn: AbstractContextManager[Any],
        commit_group: Callable[[list[QueuedWrite[Any]]], None],
    ) -> None:
        self._turn = turn
        self._commit_group = commit_group
        self._queue: list[QueuedWrite[Any]] = []
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def submit(self, queued: QueuedWrite[Any]) -> None:
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

    def is_current_thread(self) -> bool:
        return self._thread is threading.current_thread()

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

    def _take(self) -> list[QueuedWrite[Any]]:
        with self._ready:
            group, self._queue = self._queue, []
            return group


def resolve(answered: asyncio.Future[None]) -> None:
    if not answered.done():
        answered.set_result(None)


def run_in_savepoint(connection: Connection, queued: QueuedWrite[Any]) -> None:
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
