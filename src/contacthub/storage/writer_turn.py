"""The writer turn: one writer of a SQLite database at a time, across threads and processes.

What may be done inside the turn: run SQL on one connection. Taking the turn
again in the same thread deadlocks (it is not reentrant).
"""

from __future__ import annotations

import fcntl
import os
import threading


class WriterTurn:
    """One writer of a SQLite database at a time: a lock across threads, flock across processes.

    SQLite's own busy polling is unfair (some writers lose the race for
    seconds), and so is a bare lock (the process that just released it takes
    it straight back): docs/architecture.md has the measurements. So processes
    queue first, in ticket order, in `<database>.writer-queue`: its first bytes
    count the tickets (under a byte-range lock of their own, held only to take
    one), and each ticket holds a byte of its own while it waits and writes. A
    writer waits for the byte of the ticket before its own, which nobody else
    asks for, so the turn passes in order. The flock on `<database>.writer-lock`
    stays the exclusion itself: if a queued process dies, the kernel drops its
    locks and the one behind it goes on to wait there.

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
