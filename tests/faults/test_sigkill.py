"""SIGKILL the server during a load of 100-contact batches: no acknowledged contact is lost, no
batch is half stored.

Eight clients send batches of new numbers without pause. The server is
killed (SIGKILL: no shutdown code runs) at random moments and restarted on
the same database. A batch answered `200` must be stored exactly as
acknowledged; a batch whose answer was lost (the connection died) may be
stored or not, but whole. Half of the clients retry a lost answer with its
`Idempotency-Key`, as `contacthub import` does, so their outcome becomes
known after the restart: the retry must replay the first answer or apply
the batch now, never store it twice or answer `409`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest

from tests.conftest import contact, new_org
from tests.faults.conftest import Launch
from tests.faults.harness import (
    CLIENT_TIMEOUT_SECONDS,
    SOAK,
    ClientThreads,
    Deadline,
    Numbers,
    figure_line,
    kill,
    log_tail,
    read_all,
    seeded_random,
    unavailable_problem,
)

CLIENTS = 8
BATCH = 100
KILLS = 30 if SOAK else 5
# Server processes: the soak also kills a supervisor and its workers together.
WORKERS = [1, 4] if SOAK else [1]
# How long a client keeps trying one batch while the server is down.
RETRY_SECONDS = 90.0
NOT_SENT = "not sent"  # connection refused: the server was down, the request never left
CUT = "cut"  # the connection died after the request left: its outcome is unknown


@dataclass
class Batch:
    numbers: list[str]
    key: str | None
    # "acked" (200), "unknown" (the answer was lost), or "refused" (anything else: a failure).
    outcome: str = "unknown"
    ids: dict[str, str] = field(default_factory=dict)  # phone_no -> contact_id, from the 200
    retried: bool = False  # sent again with its key after an unknown outcome
    replayed: bool = False
    answers: list[str] = field(default_factory=list)  # what a refused batch heard


class BatchLoad(ClientThreads):
    """The client threads, and everything they sent and heard."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(CLIENTS, stop_within=RETRY_SECONDS + CLIENT_TIMEOUT_SECONDS)
        self.url = url
        self.token = token
        self.numbers = Numbers()
        self.batches: list[Batch] = []
        self.requests = 0
        self.in_flight = 0
        self.cut = 0
        self.unavailable = 0
        self.problems: list[str] = []
        self._lock = threading.Lock()

    def acked(self) -> int:
        return sum(batch.outcome == "acked" for batch in self.batches)

    def wait_for_acks(self, count: int, seconds: float = 60) -> None:
        """Until `count` more batches are acknowledged: the (re)started server takes writes."""
        target = self.acked() + count
        deadline = Deadline(seconds)
        while self.acked() < target:
            if deadline.passed():
                refused = [b.answers for b in self.batches if b.outcome == "refused"]
                raise AssertionError(
                    f"no {count} batches acknowledged in {seconds} s: {self.problems[-5:]}"
                    f" {refused[-5:]}"
                )
            time.sleep(0.05)

    def _client(self, slot: int) -> None:
        # Even clients retry a lost answer with the batch's key; odd ones leave it unknown.
        retrying = slot % 2 == 0
        with httpx.Client(base_url=self.url, timeout=CLIENT_TIMEOUT_SECONDS) as client:
            sent = 0
            while not self._stop.is_set():
                batch = Batch(
                    self.numbers.take(BATCH), key=f"sigkill-{slot}-{sent}" if retrying else None
                )
                self.batches.append(batch)
                self._send(client, batch)
                sent += 1

    def _send(self, client: httpx.Client, batch: Batch) -> None:
        body = {"token": self.token, "contacts": [contact(n, last=f"N{n}") for n in batch.numbers]}
        headers = {"Idempotency-Key": batch.key} if batch.key else {}
        deadline = Deadline(RETRY_SECONDS)
        while True:
            answer = self._post(client, body, headers)
            if isinstance(answer, httpx.Response):
                if answer.status_code != 503:
                    self._settle(batch, answer)
                    return
                self._unavailable(answer)
            # A request that never left is sent again as it is; one that may have been
            # applied, only under its key.
            if (answer is not NOT_SENT and batch.key is None) or deadline.passed():
                return
            batch.retried = batch.retried or answer is not NOT_SENT
            time.sleep(0.1)  # the server is restarting

    def _post(
        self, client: httpx.Client, body: dict[str, object], headers: dict[str, str]
    ) -> httpx.Response | str:
        """The answer; or NOT_SENT when nobody listens; or CUT when the server died with it."""
        with self._lock:
            self.in_flight += 1
        try:
            response = client.post("/v3/contact/add", json=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            return NOT_SENT
        except httpx.TransportError:
            with self._lock:
                self.requests += 1
                self.cut += 1
            return CUT
        finally:
            with self._lock:
                self.in_flight -= 1
        with self._lock:
            self.requests += 1
        return response

    def _settle(self, batch: Batch, response: httpx.Response) -> None:
        answer = response.json() if response.status_code == 200 else {}
        entries = answer.get("contacts", [])
        if [(e["phone_no"], e["status"]) for e in entries] != [
            (n, "created") for n in batch.numbers
        ]:
            batch.outcome = "refused"
            batch.answers.append(f"{response.status_code} {response.text[:300]}")
            return
        batch.outcome = "acked"
        batch.ids = {entry["phone_no"]: entry["contact_id"] for entry in entries}
        batch.replayed = response.headers.get("idempotent-replayed") == "true"

    def _unavailable(self, response: httpx.Response) -> None:
        problem = unavailable_problem(response)
        with self._lock:
            self.unavailable += 1
            if problem:
                self.problems.append(problem)


@pytest.mark.parametrize("workers", WORKERS, ids=lambda n: f"workers{n}")
def test_sigkill_during_batch_load_loses_no_acknowledged_contact(
    backend: str, workers: int, fault_database_url: str, launch: Launch
) -> None:
    rng, seed = seeded_random("sigkill")
    started = time.monotonic()
    server = launch(fault_database_url, workers=workers)
    log_path = server.log_path
    assert log_path is not None
    org = new_org(server)
    load = BatchLoad(server.url, org.token)
    load.start()
    in_flight_at_kills = 0
    try:
        for _ in range(KILLS):
            load.wait_for_acks(CLIENTS)
            time.sleep(rng.uniform(0.1, 1.5))
            in_flight_at_kills += load.in_flight
            kill(server)
            server.start(log_path)
        load.wait_for_acks(CLIENTS)
    finally:
        load.stop()
    stored = read_all(server.url, org.token)
    org.client.close()

    by_phone = {item["phone_no"]: item["contact_id"] for item in stored.values()}
    acked = [batch for batch in load.batches if batch.outcome == "acked"]
    unknown = [batch for batch in load.batches if batch.outcome == "unknown"]
    refused = [batch for batch in load.batches if batch.outcome == "refused"]
    lost = [n for b in acked for n in b.numbers if by_phone.get(n) != b.ids[n]]
    stored_counts = [sum(n in by_phone for n in b.numbers) for b in unknown]
    partial = [count for count in stored_counts if 0 < count < BATCH]
    sent = {n for batch in load.batches for n in batch.numbers}
    phantom = by_phone.keys() - sent
    server_errors = sum(answer.startswith("500") for b in refused for answer in b.answers)

    figure_line(
        "sigkill",
        backend=backend,
        seed=seed,
        workers=workers,
        clients=CLIENTS,
        kills=KILLS,
        requests=load.requests,
        in_flight_at_kills=in_flight_at_kills,
        answers_lost=load.cut,
        acked_batches=len(acked),
        acked_contacts=sum(len(b.numbers) for b in acked),
        retried_with_key=sum(b.retried for b in load.batches),
        replayed=sum(b.replayed for b in acked),
        unknown_batches=len(unknown),
        unknown_stored_whole=sum(count == BATCH for count in stored_counts),
        unavailable=load.unavailable,
        stored_contacts=len(stored),
        lost=len(lost),
        partial_batches=len(partial),
        phantom=len(phantom),
        server_errors=server_errors,
        seconds=round(time.monotonic() - started, 1),
    )
    log = log_tail(server)
    assert not lost, f"{len(lost)} acknowledged contacts not stored as acknowledged: {lost[:5]}"
    assert not partial, f"batches stored in part: {partial[:10]} of {BATCH}\n{log}"
    assert not phantom, f"stored numbers no client sent: {sorted(phantom)[:5]}"
    assert not refused, f"unexpected answers: {[b.answers for b in refused][:5]}\n{log}"
    assert not load.problems, f"bad 503 answers: {load.problems[:5]}\n{log}"
    assert in_flight_at_kills > 0, "no kill caught a request in flight: the test tested nothing"
