"""Credentials: present and of the right type (step 2 of the order of checks)."""

from __future__ import annotations

from typing import Any

import pytest

from contacthub.domain.credentials import (
    AppCredentials,
    UserCredentials,
    app_credentials,
    user_credentials,
    user_token,
)
from contacthub.errors import InvalidRequest, Problem

TOKEN_REQUIRED = Problem("token", "is required (in the body or as a Bearer header)")


def problems_of(call: Any, *args: Any) -> list[Problem]:
    with pytest.raises(InvalidRequest) as caught:
        call(*args)
    return caught.value.problems


# --- user_token -------------------------------------------------------------


def test_body_token() -> None:
    assert user_token({"token": "body-token"}, None) == "body-token"


@pytest.mark.parametrize(
    "header", ["Bearer header-token", "bearer header-token", "BEARER   header-token  "]
)
def test_bearer_header_token(header: str) -> None:
    # RFC 9110 makes the scheme name case-insensitive.
    assert user_token({}, header) == "header-token"


def test_body_wins_over_header() -> None:
    assert user_token({"token": "body-token"}, "Bearer header-token") == "body-token"


@pytest.mark.parametrize("token", [123, 0, False, True, ["t"], {"t": 1}, 1.5])
def test_body_token_of_wrong_type_is_a_problem_even_beside_a_good_header(token: Any) -> None:
    assert problems_of(user_token, {"token": token}, "Bearer header-token") == [
        Problem("token", "must be a string")
    ]


@pytest.mark.parametrize("token", [None, ""], ids=["null", "empty"])
def test_absent_body_token_falls_back_to_the_header(token: Any) -> None:
    assert user_token({"token": token}, "Bearer header-token") == "header-token"


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="no-header"),
        pytest.param("", id="empty-header"),
        pytest.param("Bearer", id="scheme-only"),
        pytest.param("Bearer    ", id="scheme-and-blanks"),
        pytest.param("Basic dXNlcjpwYXNz", id="basic"),
        pytest.param("Token header-token", id="other-scheme"),
        pytest.param("header-token", id="no-scheme"),
        pytest.param("Bearerheader-token", id="no-space"),
    ],
)
@pytest.mark.parametrize(
    "body", [{}, {"token": None}, {"token": ""}], ids=["none", "null", "empty"]
)
def test_missing_token_names_the_token_field(body: dict[str, Any], header: str | None) -> None:
    with pytest.raises(InvalidRequest) as caught:
        user_token(body, header)
    assert caught.value.problems == [TOKEN_REQUIRED]
    assert caught.value.msg == "Invalid request parameters"


# --- app_credentials --------------------------------------------------------


def test_app_credentials() -> None:
    assert app_credentials({"appid": 1111112, "secret": "s3cret", "extra": 1}) == AppCredentials(
        appid=1111112, secret="s3cret"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {},
            [Problem("appid", "is required"), Problem("secret", "is required")],
            id="both-missing",
        ),
        pytest.param(
            {"appid": None, "secret": ""},
            [Problem("appid", "is required"), Problem("secret", "is required")],
            id="null-and-empty",
        ),
        pytest.param(
            {"appid": "1111112", "secret": 42},
            [Problem("appid", "must be an integer"), Problem("secret", "must be a string")],
            id="both-wrong-type",
        ),
        pytest.param(
            {"appid": True, "secret": "s3cret"},
            [Problem("appid", "must be an integer")],
            id="bool-appid",
        ),
        pytest.param(
            {"appid": 1111112.5, "secret": "s3cret"},
            [Problem("appid", "must be an integer")],
            id="fractional-appid",
        ),
        pytest.param(
            {"appid": [1111112], "secret": ["s3cret"]},
            [Problem("appid", "must be an integer"), Problem("secret", "must be a string")],
            id="lists",
        ),
        pytest.param(
            {"appid": 1111112},
            [Problem("secret", "is required")],
            id="secret-missing",
        ),
    ],
)
def test_app_credentials_list_every_problem(body: dict[str, Any], expected: list[Problem]) -> None:
    assert problems_of(app_credentials, body) == expected


# --- user_credentials -------------------------------------------------------


def test_user_credentials() -> None:
    body = {"id": "101_1111112", "password": "correct horse", "token": "ignored"}
    assert user_credentials(body) == UserCredentials(
        user_id="101_1111112", password="correct horse"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {},
            [Problem("id", "is required"), Problem("password", "is required")],
            id="both-missing",
        ),
        pytest.param(
            {"id": "", "password": None},
            [Problem("id", "is required"), Problem("password", "is required")],
            id="empty-and-null",
        ),
        pytest.param(
            {"id": 101, "password": 12345678},
            [Problem("id", "must be a string"), Problem("password", "must be a string")],
            id="numbers",
        ),
        pytest.param(
            {"id": True, "password": "correct horse"},
            [Problem("id", "must be a string")],
            id="bool-id",
        ),
        pytest.param(
            {"id": "101_1111112"},
            [Problem("password", "is required")],
            id="password-missing",
        ),
    ],
)
def test_user_credentials_list_every_problem(body: dict[str, Any], expected: list[Problem]) -> None:
    assert problems_of(user_credentials, body) == expected
