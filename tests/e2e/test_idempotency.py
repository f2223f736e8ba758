"""`Idempotency-Key` on `v3/contact/add`: a retry gets the first answer and writes nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import SHARED_SERVER_ENV, Org, Server, contact, new_org
from tests.e2e.test_envelope import assert_envelope

REPLAYED = "idempotent-replayed"


def add_with_key(org: Org, key: str, contacts: list[dict], token: str | None = None, **extra):
    return org.client.post(
        "/v3/contact/add",
        json={"token": token or org.token, "contacts": contacts, **extra},
        headers={"Idempotency-Key": key},
    )


def test_a_retry_replays_the_first_answer_and_writes_nothing(org: Org) -> None:
    batch = [contact("919600000001"), contact("919600000002")]
    first = add_with_key(org, "retry-1", batch)
    assert first.status_code == 200
    assert REPLAYED not in first.headers
    again = add_with_key(org, "retry-1", batch)
    assert again.status_code == 200
    assert again.headers[REPLAYED] == "true"
    assert again.json() == first.json()
    assert org.get().json()["count"] == 2


def test_the_token_is_not_part_of_the_request(org: Org) -> None:
    batch = [contact("919600000010")]
    first = add_with_key(org, "relogin", batch)
    token = org.post("/v2/user/login", {"id": org.user_id, "password": org.password}).json()[
        "token"
    ]
    again = add_with_key(org, "relogin", batch, token=token)
    assert again.headers[REPLAYED] == "true"
    assert again.json() == first.json()


def test_the_same_key_with_another_body_is_400(org: Org) -> None:
    add_with_key(org, "reused", [contact("919600000020")])
    response = add_with_key(org, "reused", [contact("919600000021")])
    body = assert_envelope(response, 400)
    assert body["errors"][0]["field"] == "Idempotency-Key"
    assert org.get().json()["count"] == 1


@pytest.mark.parametrize("status", [400, 409])
def test_400_and_409_answers_are_kept(org: Org, status: int) -> None:
    org.add([contact("919600000030")])
    batch = [contact("12")] if status == 400 else [contact("919600000030")]
    first = add_with_key(org, f"kept-{status}", batch)
    assert first.status_code == status
    again = add_with_key(org, f"kept-{status}", batch)
    assert again.status_code == status
    assert again.headers[REPLAYED] == "true"
    assert again.json() == first.json()


def test_a_409_is_replayed_even_after_the_conflict_is_gone(org: Org) -> None:
    existing = org.add([contact("919600000040")]).json()["contacts"][0]["contact_id"]
    batch = [contact("919600000040")]
    assert add_with_key(org, "gone", batch).status_code == 409
    org.post("/v3/contact/delete", {"token": org.token, "contact_ids": [existing]})
    again = add_with_key(org, "gone", batch)
    assert again.status_code == 409
    assert again.headers[REPLAYED] == "true"


def test_a_404_is_not_kept(org: Org) -> None:
    batch = [contact("919600000050")]
    assert add_with_key(org, "after-404", batch, token="not-a-token").status_code == 404
    retry = add_with_key(org, "after-404", batch)
    assert retry.status_code == 200
    assert REPLAYED not in retry.headers


def test_validate_only_requests_are_not_kept(org: Org) -> None:
    batch = [contact("919600000060")]
    for _ in range(2):
        dry = add_with_key(org, "dry", batch, validate_only=True)
        assert dry.status_code == 200
        assert REPLAYED not in dry.headers
    real = add_with_key(org, "dry", batch)
    assert real.status_code == 200
    assert REPLAYED not in real.headers
    assert org.get().json()["count"] == 1


def test_keys_belong_to_one_user(org: Org) -> None:
    add_with_key(org, "mine", [contact("919600000070")])
    other = new_org(org.server)
    response = add_with_key(other, "mine", [contact("919600000071")])
    assert response.status_code == 200
    assert REPLAYED not in response.headers


@pytest.mark.parametrize("key", ["k" * 256, "tab\there", "é"])
def test_a_malformed_key_is_400(org: Org, key: str) -> None:
    response = org.client.post(
        "/v3/contact/add",
        json={"token": org.token, "contacts": [contact("919600000080")]},
        headers={"Idempotency-Key": key.encode("utf-8")},
    )
    assert assert_envelope(response, 400)["errors"][0]["field"] == "Idempotency-Key"
    assert org.get().json()["count"] == 0


def test_concurrent_requests_with_one_key_write_once(org: Org) -> None:
    batch = [contact(f"9196000001{n:02d}") for n in range(20)]
    barrier = threading.Barrier(8)
    responses: list[httpx.Response] = []

    def send() -> None:
        with httpx.Client(base_url=org.server.url, timeout=60) as client:
            barrier.wait()
            responses.append(
                client.post(
                    "/v3/contact/add",
                    json={"token": org.token, "contacts": batch},
                    headers={"Idempotency-Key": "together"},
                )
            )

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in responses] == [200] * 8
    assert len({r.text for r in responses}) == 1
    assert sum(REPLAYED not in r.headers for r in responses) == 1
    assert org.get().json()["count"] == 20


@pytest.fixture
def restartable(database_url: str, tmp_path: Path) -> Iterator[Server]:
    running = Server(database_url, env=SHARED_SERVER_ENV)
    running.start(tmp_path / "first.log")
    yield running
    running.stop()


def test_a_replay_survives_a_server_restart(restartable: Server, tmp_path: Path) -> None:
    org = new_org(restartable)
    batch = [contact("919600000090")]
    first = add_with_key(org, "durable", batch)
    assert first.status_code == 200
    restartable.stop()
    restartable.start(tmp_path / "second.log")
    again = add_with_key(org, "durable", batch)
    assert again.headers[REPLAYED] == "true"
    assert again.json() == first.json()


@pytest.fixture(scope="module")
def two_workers(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(database_url, env=SHARED_SERVER_ENV, workers=2)
    running.start(tmp_path_factory.mktemp("idempotency-workers") / "server.log")
    yield running
    running.stop()


def test_a_key_is_honoured_by_every_worker_process(two_workers: Server) -> None:
    org = new_org(two_workers)
    batch = [contact("919600000099")]
    answers = []
    for _ in range(6):  # new connections, so the requests spread over both workers
        with httpx.Client(base_url=two_workers.url) as client:
            answers.append(
                client.post(
                    "/v3/contact/add",
                    json={"token": org.token, "contacts": batch},
                    headers={"Idempotency-Key": "both-workers"},
                )
            )
    assert [a.status_code for a in answers] == [200] * 6
    assert sum(REPLAYED in a.headers for a in answers) == 5
    assert len({a.text for a in answers}) == 1
    assert org.get().json()["count"] == 1
