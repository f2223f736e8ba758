"""`contacthub serve --workers 4` under a mixed load: no `500`, no "database is locked", and the
final contents are exactly what the acknowledged operations imply.

Each client thread owns the contacts it creates (its numbers and its first
name, `WorkerA`, `WorkerB`..., are its own), and keeps a model of them: what its
acknowledged adds, updates and deletes imply. Its reads, served by any of
the four processes, must match the model at once (read-your-writes across
processes), a search for its name must count exactly its contacts, and at
the end the server's whole contents must equal the union of the models. A
`503` is allowed, with the envelope, and must have written nothing: the
model ignores it, so a `503` that wrote shows up as a difference.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from typing import Any

import httpx

from tests.conftest import Org, contact, new_org
from tests.faults.conftest import Launch
from tests.faults.harness import (
    CLIENT_TIMEOUT_SECONDS,
    LOCKED,
    SOAK,
    Numbers,
    figure_line,
    join_all,
    log_tail,
    read_all,
    seeded_random,
    unavailable_problem,
    worker_cpu_seconds,
)

WORKERS = 4
CLIENTS = 6
LOAD_SECONDS = 120.0 if SOAK else 15.0
FIELDS = ("phone_no", "first_name", "last_name", "email_id", "company", "job_title")
# Each client's operations, by weight.
OPERATIONS = ["add"] * 3 + ["update"] * 3 + ["delete"] * 2 + ["get"] * 3 + ["search"]


class Client:
    """One client thread: its own contacts, the model of them, and what it saw."""

    def __init__(self, slot: int, org: Org, numbers: Numbers, rng: random.Random) -> None:
        # Letters only: the digits of a search also match phone numbers.
        self.name = f"Worker{'ABCDEFGHIJ'[slot]}"
        self.org = org
        self.numbers = numbers
        self.rng = rng
        self.model: dict[str, dict[str, Any]] = {}  # contact_id -> the fields it must have
        self.deleted: list[str] = []
        self.statuses: Counter[tuple[str, int]] = Counter()
        self.problems: list[str] = []
        self.locked = 0
        # A connection per request: the kernel hands each to any of the worker processes, so
        # a client's reads are served by other processes than its writes.
        self.http = httpx.Client(
            base_url=org.server.url,
            timeout=CLIENT_TIMEOUT_SECONDS,
            headers={"Connection": "close"},
        )

    def run(self, until: float) -> None:
        with self.http:
            while time.monotonic() < until:
                getattr(self, self.rng.choice(OPERATIONS))()

    def post(self, operation: str, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """The answer's body if it is a 200; None (and the reason noted) if not."""
        try:
            response = self.http.post(path, json={"token": self.org.token, **body})
        except httpx.TransportError as error:
            self.problems.append(f"{operation}: {type(error).__name__} {error}")
            return None
        self.statuses[operation, response.status_code] += 1
        if LOCKED in response.text:
            self.locked += 1
        if response.status_code == 200:
            answer: dict[str, Any] = response.json()
            return answer
        if response.status_code == 503:
            problem = unavailable_problem(response)
            if problem:
                self.problems.append(f"{operation}: {problem}")
        else:
            self.problems.append(f"{operation}: {response.status_code} {response.text[:300]}")
        return None

    def new_fields(self) -> dict[str, Any]:
        fields = contact(self.numbers.take(1)[0], first=self.name, last=self.word())
        if self.rng.random() < 0.5:
            fields["company"] = f"Co {self.word()}"
        if self.rng.random() < 0.5:
            fields["email_id"] = f"{self.word().lower()}@example.com"
        return fields

    def word(self) -> str:
        return "".join(self.rng.choices("abcdefghij", k=6)).capitalize()

    def pick(self, most: int) -> list[str]:
        return self.rng.sample(sorted(self.model), min(most, len(self.model)))

    def add(self) -> None:
        batch = [self.new_fields() for _ in range(self.rng.randint(1, 20))]
        answer = self.post("add", "/v3/contact/add", {"contacts": batch})
        if answer is None:
            return
        for fields, entry in zip(batch, answer["contacts"], strict=True):
            self.model[entry["contact_id"]] = {
                field: None for field in FIELDS if field not in fields
            } | fields

    def update(self) -> None:
        patches = []
        for contact_id in self.pick(10):
            patch: dict[str, Any] = {"contact_id": contact_id, "last_name": self.word()}
            if self.rng.random() < 0.3:
                patch["phone_no"] = self.numbers.take(1)[0]
            if self.rng.random() < 0.3:
                patch["company"] = None
            patches.append(patch)
        if not patches:
            return
        answer = self.post("update", "/v3/contact/update", {"contacts": patches})
        if answer is None:
            return
        if answer.get("updated") != len(patches):
            self.problems.append(f"update: {len(patches)} sent, answer {answer}")
        for patch in patches:
            self.model[patch["contact_id"]].update(
                {field: value for field, value in patch.items() if field != "contact_id"}
            )

    def delete(self) -> None:
        doomed = self.pick(self.rng.randint(1, 5))
        # An id that matches nothing is ignored, and does not count.
        answer = self.post(
            "delete", "/v3/contact/delete", {"contact_ids": [*doomed, str(uuid.uuid4())]}
        )
        if answer is None:
            return
        if answer.get("deleted") != len(doomed):
            self.problems.append(f"delete: {len(doomed)} of ours, answer {answer}")
        for contact_id in doomed:
            del self.model[contact_id]
            self.deleted.append(contact_id)

    def get(self) -> None:
        """Read back one of ours, or one we deleted: the model must be what any process serves."""
        if self.deleted and (not self.model or self.rng.random() < 0.2):
            contact_id = self.rng.choice(self.deleted)
        elif self.model:
            [contact_id] = self.pick(1)
        else:
            return
        answer = self.post("get", "/v3/contact/get", {"contact_id": contact_id})
        if answer is None:
            return
        expected = [self.model[contact_id]] if contact_id in self.model else []
        seen = [{field: item[field] for field in FIELDS} for item in answer["contacts"]]
        if seen != expected:
            self.problems.append(f"get {contact_id}: expected {expected}, got {seen}")

    def search(self) -> None:
        answer = self.post("search", "/v3/contact/get", {"search": self.name.lower(), "limit": 1})
        if answer is not None and answer["count"] != len(self.model):
            self.problems.append(f"search: count {answer['count']}, model {len(self.model)}")


def differences(stored: dict[str, dict[str, Any]], model: dict[str, dict[str, Any]]) -> list[str]:
    found = [f"missing {contact_id}" for contact_id in model.keys() - stored.keys()]
    found += [f"unexpected {stored[contact_id]}" for contact_id in stored.keys() - model.keys()]
    for contact_id in model.keys() & stored.keys():
        seen = {field: stored[contact_id][field] for field in FIELDS}
        if seen != model[contact_id]:
            found.append(f"{contact_id}: stored {seen}, expected {model[contact_id]}")
    return found


def test_four_workers_under_mixed_load_keep_exactly_the_acknowledged_writes(
    backend: str, fault_database_url: str, launch: Launch
) -> None:
    rng, seed = seeded_random("workers")
    started = time.monotonic()
    server = launch(fault_database_url, workers=WORKERS)
    org = new_org(server)
    numbers = Numbers()
    clients = [Client(slot, org, numbers, random.Random(rng.random())) for slot in range(CLIENTS)]
    until = time.monotonic() + LOAD_SECONDS
    threads = [
        threading.Thread(target=client.run, args=(until,), name=client.name, daemon=True)
        for client in clients
    ]
    cpu_before = worker_cpu_seconds(server)
    for thread in threads:
        thread.start()
    join_all(threads, LOAD_SECONDS + 2 * CLIENT_TIMEOUT_SECONDS)
    cpu_after = worker_cpu_seconds(server)
    busy = [pid for pid in cpu_before if cpu_after.get(pid, 0) - cpu_before[pid] > 0.2]
    stored = read_all(server.url, org.token)
    org.client.close()

    model = {cid: fields for client in clients for cid, fields in client.model.items()}
    statuses: Counter[tuple[str, int]] = sum((c.statuses for c in clients), Counter())
    problems = [problem for client in clients for problem in client.problems]
    mismatches = differences(stored, model)
    log = log_tail(server)
    by_status = Counter[int]()
    for (_, status), count in statuses.items():
        by_status[status] += count

    def acked(operation: str) -> int:
        return statuses[operation, 200]

    figure_line(
        "workers",
        backend=backend,
        seed=seed,
        workers=WORKERS,
        busy_workers=len(busy),
        clients=CLIENTS,
        requests=sum(statuses.values()),
        adds=acked("add"),
        updates=acked("update"),
        deletes=acked("delete"),
        gets=acked("get") + acked("search"),
        acked_writes=acked("add") + acked("update") + acked("delete"),
        unavailable=by_status[503],
        stored_contacts=len(stored),
        mismatches=len(mismatches),
        locked=sum(client.locked for client in clients),
        server_errors=by_status[500],
        seconds=round(time.monotonic() - started, 1),
    )
    assert len(cpu_before) == WORKERS, f"worker processes: {cpu_before}"
    assert len(busy) > 1, f"one process served the whole load: {cpu_before} -> {cpu_after}"
    assert set(by_status) <= {200, 503}, f"{dict(statuses)}: {problems[:5]}\n{log}"
    assert not any(client.locked for client in clients), f"{LOCKED!r} reached a client\n{log}"
    assert not problems, f"{len(problems)} problems: {problems[:5]}\n{log}"
    assert not mismatches, f"{len(mismatches)} differences from the model: {mismatches[:5]}"
