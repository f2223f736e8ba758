"""PostgreSQL goes away under load: requests in flight answer `503` quickly, and the service
recovers by itself.

Clients add batches, page, search and log in without pause while an admin
connection terminates every backend of the server's database
(`pg_terminate_backend`) at random moments. Every answer must be `200`, or
`503` with the `{code, msg}` envelope and a `Retry-After` header; none may
take longer than REQUEST_BOUND_SECONDS; after the last cut the same server
process answers `200` again; and every acknowledged contact is stored, every
batch whole or not at all. With CONTACTHUB_SOAK=1 a second variant restarts
the PostgreSQL server itself (CONTACTHUB_SOAK_PG_RESTART, the command that
does it), which `make test` never does: other tests share that server.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import Org, contact, new_org
from tests.faults.conftest import Launch
from tests.faults.harness import (
    CLIENT_TIMEOUT_SECONDS,
    REQUEST_BOUND_SECONDS,
    SOAK,
    ClientThreads,
    Deadline,
    Numbers,
    figure_line,
    log_tail,
    read_all,
    seeded_random,
    unavailable_problem,
)

CLIENTS = 6
BATCH = 20
CUTS = 30 if SOAK else 8
RESTARTS = 3
# After the last fault, the server must answer 200 again within this time, without a restart.
RECOVERY_SECONDS = 10.0
RESTART_COMMAND = os.environ.get(
    "CONTACTHUB_SOAK_PG_RESTART", "pg_ctlcluster --skip-systemctl-redirect 15 main restart"
)
FAULTS = ["terminate", *(["restart"] if SOAK else [])]


@dataclass
class Answer:
    operation: str
    status: int | str  # the HTTP status, or the name of the transport error
    seconds: float
    problem: str | None = None


@dataclass
class AddedBatch:
    numbers: list[str]
    acked: bool = False
    ids: dict[str, str] = field(default_factory=dict)


class ReadWriteLoad(ClientThreads):
    """Client threads adding, paging, searching and logging in; every answer is recorded."""

    def __init__(self, org: Org) -> None:
        super().__init__(CLIENTS, stop_within=2 * CLIENT_TIMEOUT_SECONDS)
        self.org = org
        self.numbers = Numbers()
        self.answers: list[Answer] = []
        self.batches: list[AddedBatch] = []

    def successes(self) -> int:
        return sum(answer.status == 200 for answer in self.answers)

    def wait_for_successes(self, count: int, seconds: float) -> float:
        """Wait until `count` more requests succeed; return how long that took."""
        started = time.monotonic()
        target = self.successes() + count
        deadline = Deadline(seconds)
        while self.successes() < target:
            if deadline.passed():
                problems = [a for a in self.answers if a.status != 200]
                raise AssertionError(f"no {count} successes in {seconds} s: {problems[-5:]}")
            time.sleep(0.02)
        return time.monotonic() - started

    def _client(self, slot: int) -> None:
        operations = ["add"] * 10 + ["page"] * 6 + ["search"] * 3 + ["login"]
        with httpx.Client(base_url=self.org.server.url, timeout=CLIENT_TIMEOUT_SECONDS) as client:
            turn = slot
            while not self._stop.is_set():
                self._request(client, operations[turn % len(operations)])
                turn += 1

    def _request(self, client: httpx.Client, operation: str) -> None:
        batch = AddedBatch(self.numbers.take(BATCH)) if operation == "add" else None
        if batch is not None:
            self.batches.append(batch)
        path, body = self._call(operation, batch)
        started = time.monotonic()
        try:
            response = client.post(path, json=body)
        except httpx.TransportError as error:
            name = type(error).__name__
            self.answers.append(Answer(operation, name, time.monotonic() - started, str(error)))
            return
        answer = Answer(operation, response.status_code, time.monotonic() - started)
        if response.status_code == 503:
            answer.problem = unavailable_problem(response)
        elif response.status_code != 200:
            answer.problem = f"{response.status_code} {response.text[:300]}"
        elif batch is not None:
            batch.acked = True
            batch.ids = {
                item["phone_no"]: item["contact_id"] for item in response.json()["contacts"]
            }
        self.answers.append(answer)

    def _call(self, operation: str, batch: AddedBatch | None) -> tuple[str, dict[str, Any]]:
        token = self.org.token
        if batch is not None:
            contacts = [contact(n, company="Cut Ltd") for n in batch.numbers]
            return "/v3/contact/add", {"token": token, "contacts": contacts}
        if operation == "page":
            return "/v3/contact/get", {"token": token, "limit": 50}
        if operation == "search":
            return "/v3/contact/get", {"token": token, "search": "cut", "limit": 10}
        return "/v2/user/login", {"id": self.org.user_id, "password": self.org.password}


def connections(admin_url: str, database: str, *, terminate: bool) -> int:
    """How many connections `database` has; with `terminate`, cut them from the server side."""
    action = "pg_terminate_backend(pid)" if terminate else "true"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        rows = admin.execute(
            f"SELECT {action} FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return sum(1 for (done,) in rows if done)


def restart_postgres() -> None:
    # Not captured: a restarted postmaster may keep the pipes open for as long as it runs.
    subprocess.run(
        shlex.split(RESTART_COMMAND),
        check=True,
        timeout=120,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def probe(org: Org, count: int = 20) -> list[str]:
    """After the faults, the same server process must answer every request: the problems seen."""
    problems = []
    for n in range(count):
        response = org.get(limit=5) if n % 2 else org.add([contact(f"9196{n:08d}")])
        if response.status_code != 200:
            problems.append(f"{response.status_code} {response.text[:200]}")
    return problems


@pytest.mark.postgres
@pytest.mark.parametrize("fault", FAULTS)
def test_postgres_connection_loss_answers_503_and_recovers(
    fault: str, postgres_admin_url: str, fault_postgres_url: str, launch: Launch
) -> None:
    rng, seed = seeded_random(f"cuts-{fault}")
    started = time.monotonic()
    server = launch(fault_postgres_url)
    database = fault_postgres_url.rpartition("/")[2]
    org = new_org(server)
    pid = server.process.pid if server.process else None
    load = ReadWriteLoad(org)
    load.start()
    terminate = fault == "terminate"
    faults = cut = 0
    recoveries: list[float] = []
    try:
        for _ in range(CUTS if terminate else RESTARTS):
            load.wait_for_successes(CLIENTS, seconds=60)
            time.sleep(rng.uniform(0.2, 1.0))
            cut += connections(postgres_admin_url, database, terminate=terminate)
            if not terminate:
                restart_postgres()
            faults += 1
            recoveries.append(load.wait_for_successes(1, seconds=RECOVERY_SECONDS))
    finally:
        load.stop()
    probe_problems = probe(org)
    assert server.process is not None
    same_process = server.process.poll() is None and server.process.pid == pid
    stored = read_all(server.url, org.token)
    org.client.close()

    by_phone = {item["phone_no"]: item["contact_id"] for item in stored.values()}
    acked = [batch for batch in load.batches if batch.acked]
    lost = [n for b in acked for n in b.numbers if by_phone.get(n) != b.ids[n]]
    unknown_counts = [sum(n in by_phone for n in b.numbers) for b in load.batches if not b.acked]
    partial = [count for count in unknown_counts if 0 < count < BATCH]
    statuses = Counter(answer.status for answer in load.answers)
    slow = [a for a in load.answers if a.seconds > REQUEST_BOUND_SECONDS]
    problems = [a for a in load.answers if a.problem]

    figure_line(
        f"pg-{fault}",
        backend="postgres",
        seed=seed,
        clients=CLIENTS,
        faults=faults,
        backends_cut=cut,
        requests=len(load.answers),
        ok=statuses[200],
        unavailable=statuses[503],
        other=sum(n for status, n in statuses.items() if status not in {200, 503}),
        slowest_ms=round(1000 * max(a.seconds for a in load.answers)),
        slowest_recovery_ms=round(1000 * max(recoveries)),
        acked_contacts=sum(len(b.numbers) for b in acked),
        lost=len(lost),
        partial_batches=len(partial),
        server_errors=statuses[500],
        seconds=round(time.monotonic() - started, 1),
    )
    log = log_tail(server)
    assert cut > 0, "no connection was cut: the test tested nothing"
    assert set(statuses) <= {200, 503}, f"{statuses}: {problems[:5]}\n{log}"
    assert not problems, f"bad 503 answers: {problems[:5]}\n{log}"
    assert not slow, f"requests slower than {REQUEST_BOUND_SECONDS} s: {slow[:5]}\n{log}"
    assert same_process, "the server process was replaced or died"
    assert not probe_problems, f"no recovery after the faults: {probe_problems[:5]}\n{log}"
    assert not lost, f"{len(lost)} acknowledged contacts not stored: {lost[:5]}"
    assert not partial, f"batches stored in part: {partial[:10]} of {BATCH}"
