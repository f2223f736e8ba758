"""A database that stops answering costs a request a bounded wait and a 503, never a hang.

The waits are the pool's (no free connection), PostgreSQL's statement timeout
(a lock held elsewhere), and SQLite's busy timeout (another program holding
the write lock). Each is set low here, and a lock is held from outside while
several requests arrive at once.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import Org, contact, new_org
from tests.faults.conftest import Launch
from tests.faults.harness import figure_line, unavailable_problem

CONCURRENT = 6
BOUND_SECONDS = 10.0  # far above every timeout below, far below the client's own


def add_all_at_once(org: Org, first_number: int) -> list[tuple[httpx.Response, float]]:
    """CONCURRENT adds of one new contact each, sent together; each with its duration."""
    results: list[tuple[httpx.Response, float]] = []
    lock = threading.Lock()

    def add(number: int) -> None:
        started = time.monotonic()
        response = httpx.post(
            f"{org.server.url}/v3/contact/add",
            json={"token": org.token, "contacts": [contact(f"+91{number}")]},
            timeout=60,
        )
        with lock:
            results.append((response, time.monotonic() - started))

    threads = [threading.Thread(target=add, args=(first_number + i,)) for i in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return results


def assert_all_unavailable_in_time(results: list[tuple[httpx.Response, float]]) -> float:
    assert len(results) == CONCURRENT
    for response, seconds in results:
        assert response.status_code == 503, response.text
        assert unavailable_problem(response) is None, response.text
        assert seconds < BOUND_SECONDS
    return max(seconds for _, seconds in results)


@pytest.mark.postgres
def test_postgres_pool_and_statement_timeouts_answer_503(
    fault_postgres_url: str, launch: Launch
) -> None:
    server = launch(
        fault_postgres_url,
        env={
            "CONTACTHUB_DB_POOL_SIZE": "1",  # two connections with the overflow
            "CONTACTHUB_DB_POOL_TIMEOUT_SECONDS": "1",
            "CONTACTHUB_DB_STATEMENT_TIMEOUT_MS": "2000",
        },
    )
    org = new_org(server)
    assert org.add([contact("+919300000000")]).status_code == 200
    with psycopg.connect(fault_postgres_url) as blocker:
        blocker.execute("LOCK TABLE contacts IN ACCESS EXCLUSIVE MODE")
        results = add_all_at_once(org, 9300000001)
    slowest = assert_all_unavailable_in_time(results)
    assert org.add([contact("+919300000100")]).status_code == 200  # recovered by itself
    figure_line("pool-timeout", backend="postgres", requests=CONCURRENT, unavailable=CONCURRENT,
                slowest_ms=round(slowest * 1000), server_errors=0)  # fmt: skip


def test_sqlite_busy_timeout_answers_503(tmp_path: Path, launch: Launch) -> None:
    path = str(tmp_path / "busy.db")
    server = launch(f"sqlite:///{path}", env={"CONTACTHUB_SQLITE_BUSY_TIMEOUT_MS": "1000"})
    org = new_org(server)
    assert org.add([contact("+919300000000")]).status_code == 200
    other_program = sqlite3.connect(path, isolation_level=None)
    try:
        other_program.execute("BEGIN IMMEDIATE")
        results = add_all_at_once(org, 9300000001)
    finally:
        other_program.execute("ROLLBACK")
        other_program.close()
    slowest = assert_all_unavailable_in_time(results)
    assert all("locked" not in response.text for response, _ in results)
    assert org.add([contact("+919300000100")]).status_code == 200
    figure_line("busy-timeout", backend="sqlite", requests=CONCURRENT, unavailable=CONCURRENT,
                slowest_ms=round(slowest * 1000), server_errors=0)  # fmt: skip
