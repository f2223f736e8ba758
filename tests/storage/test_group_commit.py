"""SQLite's group commit: writes that queue up share one transaction, each with its own answer."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from contacthub.errors import ExtensionTaken, ServiceUnavailable
from contacthub.storage.database import Database
from contacthub.storage.group_commit import QueuedWrite


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'group.db'}")
    with db.transaction(write=True) as connection:
        connection.exec_driver_sql("CREATE TABLE t (v INTEGER UNIQUE)")
    yield db
    db.dispose()


def stored(database: Database) -> list[int]:
    with database.transaction(write=False) as connection:
        return [row[0] for row in connection.exec_driver_sql("SELECT v FROM t ORDER BY v")]


def insert(value: int) -> Callable[[Connection], int]:
    def work(connection: Connection) -> int:
        connection.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": value})
        return value

    return work


class Refused(Exception):
    pass


def insert_then_refuse(value: int) -> Callable[[Connection], int]:
    def work(connection: Connection) -> int:
        insert(value)(connection)
        raise Refused(value)

    return work


def run_while_the_writer_turn_is_held(
    database: Database, works: list[Callable[[Connection], int]]
) -> list[int | BaseException]:
    """Queue every work while the writer turn is taken, so they all land in one group."""
    outcomes: list[int | BaseException] = [0] * len(works)

    def run(index: int) -> None:
        try:
            outcomes[index] = database.write(works[index])
        except Exception as error:
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    with database._writer_turn:
        for thread in threads:
            thread.start()
        while len(database._writer._queue) < len(works):
            threading.Event().wait(0.001)
    for thread in threads:
        thread.join(timeout=10)
    return outcomes


def test_queued_writes_commit_together_and_each_gets_its_own_result(database: Database) -> None:
    outcomes = run_while_the_writer_turn_is_held(database, [insert(v) for v in range(1, 9)])
    assert outcomes == list(range(1, 9))
    assert stored(database) == list(range(1, 9))


def test_a_refused_write_takes_back_only_its_own_changes(database: Database) -> None:
    works = [insert(1), insert_then_refuse(2), insert(3)]
    outcomes = run_while_the_writer_turn_is_held(database, works)
    assert outcomes[0] == 1
    assert isinstance(outcomes[1], Refused)
    assert outcomes[2] == 3
    assert stored(database) == [1, 3]


def test_a_write_breaking_a_constraint_fails_alone(database: Database) -> None:
    outcomes = run_while_the_writer_turn_is_held(database, [insert(5), insert(5), insert(6)])
    assert outcomes[0] == 5
    assert isinstance(outcomes[1], Exception)
    assert outcomes[2] == 6
    assert stored(database) == [5, 6]


def test_when_the_commit_fails_every_write_of_the_group_fails(database: Database) -> None:
    def lock_lost(connection: Connection) -> int:
        # The database becoming unusable mid-group: nothing of the group may stand.
        connection.exec_driver_sql("SELECT * FROM no_such_table")
        return 0

    outcomes = run_while_the_writer_turn_is_held(database, [insert(1), lock_lost, insert(2)])
    assert all(isinstance(outcome, ServiceUnavailable) for outcome in outcomes)
    assert stored(database) == []


def test_a_lone_write_that_raises_rolls_back(database: Database) -> None:
    with pytest.raises(Refused):
        database.write(insert_then_refuse(7))
    assert database.write(insert(8)) == 8
    assert stored(database) == [8]


def test_many_threads_writing_at_once_all_commit(database: Database) -> None:
    outcomes: list[int] = []
    lock = threading.Lock()

    def writer(start: int) -> None:
        for value in range(start, start + 50):
            result = database.write(insert(value))
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=writer, args=(i * 1000,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    expected = sorted(i * 1000 + k for i in range(8) for k in range(50))
    assert sorted(outcomes) == expected
    assert stored(database) == expected


def test_the_writer_turn_is_exclusive_across_processes(database: Database, tmp_path: Path) -> None:
    """Another process holding the turn keeps this one waiting, and its death frees the turn."""
    held = tmp_path / "held"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, pathlib\n"
            "from contacthub.storage.database import Database\n"
            "db = Database(sys.argv[1])\n"
            "with db._writer_turn:\n"
            "    pathlib.Path(sys.argv[2]).touch()\n"
            "    time.sleep(60)\n",
            database.url,
            str(held),
        ]
    )
    try:
        deadline = time.monotonic() + 30
        while not held.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert held.exists()
        waiter = threading.Thread(target=lambda: database.write(insert(1)))
        waiter.start()
        waiter.join(timeout=0.5)
        assert waiter.is_alive(), "a write went ahead while another process held the turn"
        holder.kill()  # the kernel releases a dead process's lock
        waiter.join(timeout=10)
        assert not waiter.is_alive()
        assert stored(database) == [1]
    finally:
        holder.kill()
        holder.wait()


def test_a_waiter_that_is_gone_does_not_stop_the_writer(database: Database) -> None:
    """An answer nobody can take any more (its event loop closed) leaves the writer running."""

    def loop_closed() -> None:
        raise RuntimeError("Event loop is closed")

    database._writer.submit(QueuedWrite(insert(1), loop_closed))
    later = threading.Thread(target=database.write, args=(insert(2),), daemon=True)
    later.start()
    later.join(timeout=10)
    assert not later.is_alive(), "the writer thread died: later writes wait forever"
    assert stored(database) == [1, 2]


def waits_for_a_lock(pid: int) -> bool:
    """Whether the process is blocked waiting for a file lock (the kernel's /proc/locks lists
    a waiter with `->` before its lock's kind)."""
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields and fields[fields.index("->") + 4] == str(pid):
            return True
    return False


def test_a_writer_giving_the_turn_up_queues_behind_the_process_waiting_for_it(
    database: Database, tmp_path: Path
) -> None:
    """The turn goes to the process that waited, not back to the writer that just released it.

    A bare lock lets the releaser take it straight back, before the woken waiter runs.
    """
    order = tmp_path / "order"
    with database._writer_turn:
        other = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys\n"
                "from contacthub.storage.database import Database\n"
                "turn = Database(sys.argv[1])._writer_turn\n"
                "with turn:\n"
                "    with open(sys.argv[2], 'a') as log:\n"
                "        log.write('waiter ')\n",
                database.url,
                str(order),
            ]
        )
        deadline = time.monotonic() + 30
        while not waits_for_a_lock(other.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert waits_for_a_lock(other.pid), "the other process never queued for the turn"
    try:
        with database._writer_turn, order.open("a") as log:
            log.write("releaser ")
        assert other.wait(timeout=30) == 0
    finally:
        other.kill()
    assert order.read_text().split() == ["waiter", "releaser"]


def test_the_writer_keeps_its_connection_unless_the_database_failed(database: Database) -> None:
    """A work's own refusal leaves the connection as it was; trouble replaces it."""

    def trouble(connection: Connection) -> int:
        connection.exec_driver_sql("SELECT * FROM no_such_table")
        return 0

    def refused(connection: Connection) -> int:
        insert(2)(connection)
        raise ExtensionTaken()

    database.write(insert(1))
    kept = database._writer_connection
    with pytest.raises(ExtensionTaken):
        database.write(refused)
    assert database._writer_connection is kept
    with pytest.raises(ServiceUnavailable):
        database.write(trouble)
    assert database.write(insert(3)) == 3
    assert database._writer_connection is not kept
    assert stored(database) == [1, 3]


def test_a_write_inside_a_write_is_refused_instead_of_waiting_for_itself(
    database: Database,
) -> None:
    def nested_write(_connection: Connection) -> int:
        return database.write(insert(1))

    def nested_transaction(_connection: Connection) -> int:
        with database.transaction(write=True):
            return 0

    for work in (nested_write, nested_transaction):
        with pytest.raises(RuntimeError, match="would wait for itself"):
            database.write(work)
    assert database.write(insert(2)) == 2
    assert stored(database) == [2]
