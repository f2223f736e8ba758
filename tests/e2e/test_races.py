"""Concurrent requests: the unique index, not a look-up, decides who wins."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import SHARED_SERVER_ENV, Org, Server, contact, new_org

RACERS = 16


def race(org: Org, batches: list[list[dict[str, Any]]]) -> list[httpx.Response]:
    """Send each batch from its own thread and client, all released at once."""
    barrier = threading.Barrier(len(batches))
    responses: list[httpx.Response | None] = [None] * len(batches)

    def send(slot: int) -> None:
        with httpx.Client(base_url=org.server.url, timeout=60) as client:
            barrier.wait()
            responses[slot] = client.post(
                "/v3/contact/add", json={"token": org.token, "contacts": batches[slot]}
            )

    threads = [threading.Thread(target=send, args=(slot,)) for slot in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(response is not None for response in responses)
    return [response for response in responses if response is not None]


def assert_one_winner(org: Org, responses: list[httpx.Response], phone: str) -> None:
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: 1, 409: RACERS - 1}, [r.text for r in responses]
    [winner] = [r.json()["contacts"][0]["contact_id"] for r in responses if r.status_code == 200]
    for loser in (r for r in responses if r.status_code == 409):
        assert loser.json()["duplicates"] == [{"index": 0, "phone_no": phone, "contact_id": winner}]
    body = org.get(limit=100).json()
    assert body["count"] == 1
    assert [c["contact_id"] for c in body["contacts"]] == [winner]


def test_sixteen_requests_adding_one_new_number_have_exactly_one_winner(org: Org) -> None:
    phone = "919300000001"
    responses = race(org, [[contact(phone, first=f"Racer{n}")] for n in range(RACERS)])
    assert_one_winner(org, responses, phone)


def test_overlapping_batches_are_all_or_nothing(org: Org) -> None:
    # Every batch holds the shared number plus one of its own: only the winner's
    # own number may be stored, never a loser's.
    shared = "919300000100"
    batches = [[contact(f"9193000002{n:02d}"), contact(shared)] for n in range(RACERS)]
    responses = race(org, batches)
    assert Counter(r.status_code for r in responses) == {200: 1, 409: RACERS - 1}
    assert org.get().json()["count"] == 2


@pytest.fixture(scope="module")
def two_worker_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A second server of two processes on the same database as the shared one."""
    running = Server(database_url, env=SHARED_SERVER_ENV, workers=2)
    running.start(tmp_path_factory.mktemp("workers") / "server.log")
    yield running
    running.stop()


def test_the_race_has_one_winner_across_worker_processes(two_worker_server: Server) -> None:
    org = new_org(two_worker_server)
    phone = "919300000002"
    responses = race(org, [[contact(phone, first=f"Racer{n}")] for n in range(RACERS)])
    assert_one_winner(org, responses, phone)
