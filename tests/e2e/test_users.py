"""`v2/user/add` and `v2/user/login`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contacthub.config import Settings
from contacthub.domain import secrets
from contacthub.server.app import create_app
from contacthub.services import apps as apps_service
from contacthub.storage import migrate
from tests.conftest import Org, Server, new_org
from tests.e2e.test_envelope import assert_envelope


def user_body(org: Org, **overrides: object) -> dict:
    body = {
        "appid": org.appid,
        "secret": org.secret,
        "extension": 202,
        "name": "Ravi Kumar",
        "phone_number": "919200022222",
        "password": "another long one",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not ...}


def test_user_add_answers_as_telecmi(org: Org) -> None:
    response = org.post("/v2/user/add", user_body(org, sms_alert=True, start_time=9, end_time=18))
    assert response.status_code == 200
    assert response.json() == {
        "code": 200,
        "status": "success",
        "msg": "Saved successfully",
        "agent": {"agent_id": f"202_{org.appid}", "name": "Ravi Kumar", "extension": 202},
    }


def test_user_add_with_taken_extension_is_409(org: Org) -> None:
    assert_envelope(org.post("/v2/user/add", user_body(org, extension=101)), 409)


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"appid": ...}, {"appid"}),
        ({"secret": ...}, {"secret"}),
        ({"appid": ..., "secret": ...}, {"appid", "secret"}),
        ({"appid": "123"}, {"appid"}),
        ({"appid": True}, {"appid"}),
        # JSON integers beyond 64 bits are read as floats: no app id can be that large.
        ({"appid": 10**30}, {"appid"}),
        ({"secret": 5}, {"secret"}),
        ({"secret": ""}, {"secret"}),
    ],
)
def test_user_add_missing_or_mistyped_app_credentials_is_400(
    org: Org, overrides: dict, fields: set[str]
) -> None:
    body = assert_envelope(org.post("/v2/user/add", user_body(org, **overrides)), 400)
    assert {problem["field"] for problem in body["errors"]} == fields


@pytest.mark.parametrize("overrides", [{"secret": "wrong"}, {"appid": 1}, {"appid": 2**63}])
def test_user_add_with_wrong_app_credentials_is_404(org: Org, overrides: dict) -> None:
    assert_envelope(org.post("/v2/user/add", user_body(org, **overrides)), 404)


def test_user_add_wrong_secret_wins_over_bad_fields(org: Org) -> None:
    # Order of checks: credentials are judged before any other parameter.
    response = org.post("/v2/user/add", user_body(org, secret="wrong", extension=0))
    assert_envelope(response, 404)


def test_user_add_lists_every_bad_field(org: Org) -> None:
    body = user_body(
        org, extension=0, name="", phone_number="12", password="short", start_time=25, sms_alert="y"
    )
    answer = assert_envelope(org.post("/v2/user/add", body), 400)
    assert {problem["field"] for problem in answer["errors"]} == {
        "extension", "name", "phone_number", "password", "start_time", "sms_alert",
    }  # fmt: skip


def test_login_answers_as_telecmi(org: Org) -> None:
    response = org.post("/v2/user/login", {"id": org.user_id, "password": org.password})
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == 200
    assert body["msg"] == "User logged in successfully"
    assert len(body["token"]) >= 32
    assert body["agent"] == {
        "id": org.user_id,
        "inet_no": org.appid,
        "name": "Asha Rao",
        "category": "user",
    }
    # Each login is a new token, and both work.
    assert body["token"] != org.token
    assert org.post("/v3/contact/get", {"token": body["token"]}).status_code == 200
    assert org.get().status_code == 200


@pytest.mark.parametrize(
    "credentials",
    [
        {"id": "101_1", "password": "correct horse battery"},
        {"id": "nobody", "password": "correct horse battery"},
        {"id": "999_1", "password": "x"},
    ],
)
def test_login_unknown_id_is_404_like_a_wrong_password(org: Org, credentials: dict) -> None:
    unknown = assert_envelope(org.post("/v2/user/login", credentials), 404)
    wrong = assert_envelope(
        org.post("/v2/user/login", {"id": org.user_id, "password": "wrong password"}), 404
    )
    assert unknown == wrong == {"code": 404, "msg": "Invalid user id or password"}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"id", "password"}),
        ({"id": "101_1"}, {"password"}),
        ({"id": 101, "password": "x"}, {"id"}),
        ({"id": "101_1", "password": ["x"]}, {"password"}),
        ({"id": "", "password": ""}, {"id", "password"}),
    ],
)
def test_login_missing_or_mistyped_credentials_is_400(
    org: Org, body: dict, fields: set[str]
) -> None:
    answer = assert_envelope(org.post("/v2/user/login", body), 400)
    assert {problem["field"] for problem in answer["errors"]} == fields


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with low login limits, so that they show quickly (tests/services/test_login.py
    moves time past the window, and past a token's lifetime)."""
    directory = tmp_path_factory.mktemp("strict")
    running = Server(
        f"sqlite:///{directory / 'strict.db'}",
        env={
            "CONTACTHUB_LOGIN_MAX_FAILURES_PER_ID": "3",
            "CONTACTHUB_LOGIN_MAX_FAILURES_PER_ADDRESS": "8",
            "CONTACTHUB_LOGIN_WINDOW_SECONDS": "600",
        },
    )
    running.start(Path(directory / "server.log"))
    yield running
    running.stop()


def test_repeated_failures_for_one_id_are_throttled_with_retry_after(strict_server: Server) -> None:
    org = new_org(strict_server)
    wrong = {"id": org.user_id, "password": "wrong password"}
    for _ in range(3):
        assert org.post("/v2/user/login", wrong).status_code == 404
    throttled = org.post("/v2/user/login", {"id": org.user_id, "password": org.password})
    assert_envelope(throttled, 429)
    assert 590 <= int(throttled.headers["retry-after"]) <= 600
    # Another id from the same address is not locked out by this id's failures.
    other = new_org(strict_server)
    assert (
        other.post("/v2/user/login", {"id": other.user_id, "password": other.password}).status_code
        == 200
    )


def test_repeated_failures_from_one_address_are_throttled(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # A server of its own, with a window long enough for nine slow (argon2)
    # attempts on a busy machine, and no earlier failures in it.
    directory = tmp_path_factory.mktemp("per-address")
    server = Server(
        f"sqlite:///{directory / 'address.db'}",
        env={
            "CONTACTHUB_LOGIN_MAX_FAILURES_PER_ADDRESS": "8",
            "CONTACTHUB_LOGIN_WINDOW_SECONDS": "600",
        },
    ).start(directory / "server.log")
    try:
        client = httpx.Client(base_url=server.url)
        statuses = [
            client.post("/v2/user/login", json={"id": f"{n}_1234567", "password": "guess!"})
            for n in range(1, 10)
        ]
        assert [response.status_code for response in statuses[:8]] == [404] * 8
        assert_envelope(statuses[8], 429)
    finally:
        server.stop()


def test_repeated_wrong_app_secrets_are_throttled_too(strict_server: Server) -> None:
    # With the other test's, 6 failures from loopback: under the per-address limit of 8.
    org = new_org(strict_server)
    for _ in range(3):
        assert org.post("/v2/user/add", user_body(org, secret="wrong")).status_code == 404
    throttled = org.post("/v2/user/add", user_body(org))
    assert_envelope(throttled, 429)
    assert 590 <= int(throttled.headers["retry-after"]) <= 600


def test_a_users_password_is_hashed_outside_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """argon2 takes ~90 ms on purpose; inside the write it would hold up every other writer."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'contacthub.db'}"))
    database = app.state.context.database
    migrate.upgrade(database)
    with database.transaction(write=True) as connection:
        created = apps_service.create(connection, name="Acme", default_region=None)
    writer_busy_while_hashing: list[bool] = []
    real_hash = secrets.hash_password

    def watched_hash(password: str) -> str:
        writer_busy_while_hashing.append(database._writer_turn._threads.locked())
        return real_hash(password)

    monkeypatch.setattr(secrets, "hash_password", watched_hash)

    async def add_user() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post(
                "/v2/user/add",
                json={
                    "appid": created.appid,
                    "secret": created.secret,
                    "extension": 101,
                    "name": "Asha Rao",
                    "phone_number": "+91 92000 11111",
                    "password": "correct horse battery",
                },
            )

    try:
        response = asyncio.run(add_user())
    finally:
        database.dispose()
    assert response.status_code == 200, response.text
    assert writer_busy_while_hashing == [False]
