"""Retries, on `httpx.MockTransport`: which failures are retried, how long the client waits,
and that a retried batch keeps its `Idempotency-Key`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from contacthub.client import (
    AuthError,
    ContactHub,
    DuplicateError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)
from tests.conftest import contact

URL = "http://contacthub.test"
ADDED = {
    "code": 200,
    "msg": "Contact added successfully",
    "contacts": [{"contact_id": "c1", "phone_no": "919600000001", "status": "created"}],
    "skipped": [],
}
INVALID = {
    "code": 400,
    "msg": "Invalid request parameters",
    "errors": [{"index": 0, "field": "phone_no", "msg": "is not a valid phone number"}],
}
UNAVAILABLE = {"code": 503, "msg": "Service temporarily unavailable; try again"}
THROTTLED = {"code": 429, "msg": "Too many failed attempts; try again later"}


class Script:
    """A MockTransport handler that gives the scripted answers in turn, and keeps the requests."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def keys(self) -> list[str | None]:
        return [request.headers.get("Idempotency-Key") for request in self.requests]


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits the client asks for, recorded instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr("contacthub.client._client.time.sleep", waited.append)
    return waited


def client(script: Callable[[httpx.Request], httpx.Response], **options: Any) -> ContactHub:
    return ContactHub(URL, token="t", transport=httpx.MockTransport(script), **options)


def test_503_twice_then_200_succeeds_with_one_idempotency_key(sleeps: list[float]) -> None:
    script = Script(
        httpx.Response(503, json=UNAVAILABLE),
        httpx.Response(503, json=UNAVAILABLE),
        httpx.Response(200, json=ADDED),
    )
    result = client(script).add_contacts([contact("919600000001")])
    assert result.created == 1
    assert len(script.requests) == 3
    keys = script.keys()
    assert keys[0] is not None
    assert keys == [keys[0]] * 3
    bodies = [json.loads(request.content) for request in script.requests]
    assert bodies == [bodies[0]] * 3
    assert len(sleeps) == 2


def test_backoff_doubles_with_jitter(sleeps: list[float]) -> None:
    script = Script(
        *[httpx.Response(500, json={"code": 500, "msg": "x"})] * 3, httpx.Response(200, json=ADDED)
    )
    client(script, backoff=0.5).add_contacts([contact("919600000001")])
    assert len(sleeps) == 3
    for attempt, wait in enumerate(sleeps):
        step = 0.5 * 2**attempt
        assert step / 2 <= wait <= step


def test_retries_are_bounded(sleeps: list[float]) -> None:
    script = Script(*[httpx.Response(503, json=UNAVAILABLE)] * 3)
    with pytest.raises(ServerError) as raised:
        client(script, max_retries=2).add_contacts([contact("919600000001")])
    assert raised.value.status_code == 503
    assert len(script.requests) == 3


def test_a_503_honours_retry_after(sleeps: list[float]) -> None:
    script = Script(
        httpx.Response(503, json=UNAVAILABLE, headers={"Retry-After": "1"}),
        httpx.Response(200, json=ADDED),
    )
    client(script).add_contacts([contact("919600000001")])
    assert sleeps == [1.0]


def test_a_400_is_not_retried(sleeps: list[float]) -> None:
    script = Script(httpx.Response(400, json=INVALID))
    with pytest.raises(ValidationError) as raised:
        client(script).add_contacts([contact("12345")])
    assert len(script.requests) == 1
    assert sleeps == []
    assert raised.value.errors[0].field == "phone_no"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(404, json={"code": 404, "msg": "Authenticated user record not found"}),
        httpx.Response(409, json={"code": 409, "msg": "Duplicate", "duplicates": []}),
    ],
)
def test_404_and_409_are_not_retried(answer: httpx.Response, sleeps: list[float]) -> None:
    script = Script(answer)
    with pytest.raises((DuplicateError, AuthError)):
        client(script).add_contacts([contact("919600000001")])
    assert len(script.requests) == 1


def test_a_429_with_retry_after_0_is_retried(sleeps: list[float]) -> None:
    script = Script(
        httpx.Response(429, json=THROTTLED, headers={"Retry-After": "0"}),
        httpx.Response(200, json={"code": 200, "msg": "ok", "token": "new"}),
    )
    hub = client(script)
    assert hub.login("101_1234567", "pw") == "new"
    assert len(script.requests) == 2
    assert sleeps == [0.0]


def test_a_long_retry_after_is_raised_not_waited_for(sleeps: list[float]) -> None:
    script = Script(httpx.Response(429, json=THROTTLED, headers={"Retry-After": "900"}))
    with pytest.raises(RateLimitError) as raised:
        client(script).login("101_1234567", "pw")
    assert raised.value.retry_after == 900
    assert len(script.requests) == 1
    assert sleeps == []


def test_connection_errors_are_retried_with_the_same_key(sleeps: list[float]) -> None:
    script = Script(
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("no answer"),
        httpx.Response(200, json=ADDED),
    )
    client(script).add_contacts([contact("919600000001")])
    keys = script.keys()
    assert len(keys) == 3
    assert len(set(keys)) == 1


def test_connection_errors_end_in_a_transport_error(sleeps: list[float]) -> None:
    script = Script(*[httpx.ConnectError("refused")] * 4)
    with pytest.raises(TransportError) as raised:
        client(script).add_contacts([contact("919600000001")])
    assert isinstance(raised.value.__cause__, httpx.ConnectError)
    assert raised.value.request is not None
    assert len(script.requests) == 4


def test_each_batch_has_its_own_key_and_a_retry_reuses_its_batchs(sleeps: list[float]) -> None:
    def added(n: int) -> httpx.Response:
        entries = [{"contact_id": f"c{i}", "phone_no": "9", "status": "created"} for i in range(n)]
        return httpx.Response(200, json={**ADDED, "contacts": entries})

    script = Script(
        added(100),
        httpx.Response(503, json=UNAVAILABLE),
        added(100),
        httpx.ReadTimeout("lost"),
        added(50),
    )
    result = client(script).add_contacts([contact(f"91960000{i:04d}") for i in range(250)])
    assert len(result.contacts) == 250
    first, second, second_again, third, third_again = script.keys()
    assert second == second_again
    assert third == third_again
    assert len({first, second, third}) == 3


def test_a_proxy_error_page_is_a_server_error(sleeps: list[float]) -> None:
    script = Script(*[httpx.Response(502, text="<html>Bad Gateway</html>")] * 4)
    with pytest.raises(ServerError) as raised:
        client(script).get_contact("00000000-0000-0000-0000-000000000000")
    assert (raised.value.status_code, raised.value.msg) == (502, "Bad Gateway")
