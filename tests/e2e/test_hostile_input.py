"""Whatever a client sends, the answer is a 4xx envelope or a 200, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Org, contact

HOSTILE_VALUES: list[Any] = [
    None, True, False, 0, -1, 1.5, 2**63, 2**64, -(2**63) - 1, 1e308, -1e308,
    "", " ", "\u0000", "\u0000" * 50, "\t\n\r", "\u202e\u200b", "\ufeff", "😀" * 300,
    "x" * 20_000, "'; DROP TABLE contacts; --", "%s%n%x", "\\", "../../etc/passwd",
    "00000000-0000-0000-0000-000000000000", "+", "00", "+0", "+999999999999999999999",
    [], [None], {}, {"$ne": 1}, [[[[]]]],
]  # fmt: skip

CONTACT_FIELDS = ["phone_no", "first_name", "last_name", "email_id", "company", "job_title"]


def assert_client_error_or_success(response: Any, what: str) -> None:
    assert response.status_code in {200, 400, 404, 409, 413, 429}, (what, response.text)
    body = response.json()
    assert body["code"] == response.status_code, what


@pytest.mark.parametrize("field", CONTACT_FIELDS)
def test_hostile_contact_fields(org: Org, field: str) -> None:
    for n, value in enumerate(HOSTILE_VALUES):
        item = {**contact(f"9194000{CONTACT_FIELDS.index(field):02d}{n:03d}"), field: value}
        assert_client_error_or_success(org.add([item]), f"{field}={value!r:.60}")


@pytest.mark.parametrize("field", ["token", "contacts"])
def test_hostile_add_top_level(org: Org, field: str) -> None:
    for value in HOSTILE_VALUES:
        body = {"token": org.token, "contacts": [contact("919400999999")], field: value}
        assert_client_error_or_success(org.post("/v3/contact/add", body), f"{field}={value!r:.60}")


@pytest.mark.parametrize("field", ["token", "contact_id", "limit", "page_state"])
def test_hostile_get_fields(org: Org, field: str) -> None:
    for value in HOSTILE_VALUES:
        body = {"token": org.token, field: value}
        assert_client_error_or_success(org.post("/v3/contact/get", body), f"{field}={value!r:.60}")


@pytest.mark.parametrize(
    "field",
    [
        "appid",
        "secret",
        "extension",
        "name",
        "phone_number",
        "password",
        "start_time",
        "end_time",
        "sms_alert",
    ],
)
def test_hostile_user_add_fields(org: Org, field: str) -> None:
    for n, value in enumerate(HOSTILE_VALUES):
        body = {
            "appid": org.appid,
            "secret": org.secret,
            "extension": 1000 + n,
            "name": "N",
            "phone_number": "919200033333",
            "password": "long enough",
            field: value,
        }
        assert_client_error_or_success(org.post("/v2/user/add", body), f"{field}={value!r:.60}")


@pytest.mark.parametrize("field", ["id", "password"])
def test_hostile_login_fields(org: Org, field: str) -> None:
    for value in HOSTILE_VALUES:
        body = {"id": org.user_id, "password": "wrong password", field: value}
        assert_client_error_or_success(org.post("/v2/user/login", body), f"{field}={value!r:.60}")


@pytest.mark.parametrize(
    "header",
    ["Bearer \u00e9", "Bearer " + "x" * 8000, "bearer " + "y", "Bearer\ttab", "Bearer a b c"],
)
def test_hostile_authorization_headers(org: Org, header: str) -> None:
    response = org.client.post(
        "/v3/contact/get", json={}, headers={"Authorization": header.encode("utf-8")}
    )
    assert_client_error_or_success(response, header[:40])


@pytest.mark.parametrize("field", ["on_duplicate", "validate_only"])
def test_hostile_add_options(org: Org, field: str) -> None:
    for n, value in enumerate(HOSTILE_VALUES):
        response = org.add([contact(f"9194100{n:05d}")], **{field: value})
        assert_client_error_or_success(response, f"{field}={value!r:.60}")


def test_hostile_search(org: Org) -> None:
    org.add([contact("919410099999", email_id="a@b.example")])
    for value in HOSTILE_VALUES:
        assert_client_error_or_success(org.get(search=value), f"search={value!r:.60}")
        assert_client_error_or_success(
            org.get(search=value, page_state=value), f"search+page_state={value!r:.60}"
        )


@pytest.mark.parametrize("field", ["contact_id", *CONTACT_FIELDS])
def test_hostile_update_fields(org: Org, field: str) -> None:
    [added] = org.add([contact("919420000000")]).json()["contacts"]
    for value in HOSTILE_VALUES:
        item = {"contact_id": added["contact_id"], field: value}
        response = org.post("/v3/contact/update", {"token": org.token, "contacts": [item]})
        assert_client_error_or_success(response, f"{field}={value!r:.60}")


def test_hostile_update_and_delete_batches(org: Org) -> None:
    for value in HOSTILE_VALUES:
        for path, field in (
            ("/v3/contact/update", "contacts"),
            ("/v3/contact/delete", "contact_ids"),
        ):
            for body_value in (value, [value]):
                response = org.post(path, {"token": org.token, field: body_value})
                assert_client_error_or_success(response, f"{path} {field}={body_value!r:.60}")


def test_hostile_idempotency_keys(org: Org) -> None:
    # (A DEL byte would be refused by the HTTP parser itself, before the app, in plain text.)
    for n, key in enumerate(["", " x", "k" * 255, "k" * 256, "\u00ff", "ключ"]):
        try:
            response = org.client.post(
                "/v3/contact/add",
                json={"token": org.token, "contacts": [contact(f"9194300{n:05d}")]},
                headers={"Idempotency-Key": key.encode("utf-8")},
            )
        except httpx.LocalProtocolError:
            continue  # not even sendable as HTTP
        assert_client_error_or_success(response, f"key={key!r:.40}")
