"""Paging: the opaque page_state cursor and the rest of a `v3/contact/get` request."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from contacthub.domain.fields import FieldInvalid
from contacthub.domain.paging import (
    DEFAULT_LIMIT,
    PageRequest,
    decode_page_state,
    encode_page_state,
    parse_page_request,
)
from contacthub.errors import Problem

NOT_ISSUED = "is not a page_state this server issued"
CONTACT_ID = "0190a7b2-5c3e-7d4f-8a1b-2c3d4e5f6a7b"
BIGINT_MAX = 2**63 - 1  # contacts.seq is a BIGINT


def forged(text: str) -> str:
    """A cursor built the way the server builds them, around arbitrary text."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("position", [0, 1, 5, 42, 10**9, BIGINT_MAX])
def test_page_state_round_trips(position: int) -> None:
    assert decode_page_state(encode_page_state(position)) == position


def test_page_state_is_url_safe_and_opaque() -> None:
    state = encode_page_state(5)
    assert state == "YzE6NQ"
    assert set(encode_page_state(BIGINT_MAX)) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("!!!", id="garbage"),
        pytest.param("not a cursor", id="words"),
        pytest.param("c1:5", id="plain-text-not-base64"),
        pytest.param("Yz E6NQ", id="space-inside"),
        pytest.param("é", id="non-ascii"),
        pytest.param(forged("c2:5"), id="wrong-prefix"),
        pytest.param(forged("5"), id="no-prefix"),
        pytest.param(forged("c1:"), id="prefix-only"),
        pytest.param(forged("c1:-5"), id="negative"),
        pytest.param(forged("c1:+5"), id="explicit-plus"),
        pytest.param(forged("c1: 5"), id="space-before-digits"),
        pytest.param(forged("c1:5a"), id="trailing-letter"),
        pytest.param(forged("c1:1.5"), id="decimal"),
        pytest.param(forged("c1:٥"), id="arabic-indic-digit"),
        pytest.param(forged("c1:" + "9" * 20), id="twenty-digits"),
        pytest.param(forged("c1:" + "1" * 200), id="very-long-digits"),
        pytest.param("A" * 129, id="over-128-characters"),
    ],
)
def test_malformed_page_states_are_refused(value: str) -> None:
    with pytest.raises(FieldInvalid) as caught:
        decode_page_state(value)
    assert caught.value.msg == NOT_ISSUED


@pytest.mark.parametrize(
    "position",
    [
        pytest.param(BIGINT_MAX + 1, id="bigint-max-plus-one"),
        pytest.param(10**19 - 1, id="nineteen-nines"),
    ],
)
def test_positions_beyond_bigint_are_refused(position: int) -> None:
    with pytest.raises(FieldInvalid) as caught:
        decode_page_state(forged(f"c1:{position}"))
    assert caught.value.msg == NOT_ISSUED


def test_garbage_around_a_real_cursor_is_refused() -> None:
    with pytest.raises(FieldInvalid):
        decode_page_state(encode_page_state(5) + "!!!")


@pytest.mark.parametrize("value", [5, 5.0, True, None, ["YzE6NQ"], {"after": 5}])
def test_non_string_page_states_are_refused(value: Any) -> None:
    with pytest.raises(FieldInvalid) as caught:
        decode_page_state(value)
    assert caught.value.msg == "must be a string or null"


# --- the whole request ------------------------------------------------------


def test_defaults() -> None:
    assert parse_page_request({}) == (
        PageRequest(contact_id=None, limit=DEFAULT_LIMIT, after=0),
        [],
    )
    assert DEFAULT_LIMIT == 10


def test_nulls_mean_defaults() -> None:
    body = {"contact_id": None, "limit": None, "page_state": None}
    assert parse_page_request(body) == (PageRequest(limit=10, after=0), [])


def test_empty_strings_mean_absent_for_contact_id_and_page_state() -> None:
    body = {"contact_id": "", "page_state": "", "limit": 7}
    assert parse_page_request(body) == (PageRequest(contact_id=None, limit=7, after=0), [])


@pytest.mark.parametrize("limit", [1, 10, 100])
def test_limits_from_1_to_100_are_accepted(limit: int) -> None:
    assert parse_page_request({"limit": limit}) == (PageRequest(limit=limit), [])


@pytest.mark.parametrize(
    ("limit", "msg"),
    [
        (0, "must be between 1 and 100"),
        (-1, "must be between 1 and 100"),
        (101, "must be between 1 and 100"),
        ("10", "must be an integer"),
        (True, "must be an integer"),
        (1.5, "must be an integer"),
        ([10], "must be an integer"),
    ],
)
def test_bad_limits_are_refused(limit: Any, msg: str) -> None:
    _, problems = parse_page_request({"limit": limit})
    assert problems == [Problem("limit", msg)]


def test_page_state_gives_the_position_to_start_after() -> None:
    body = {"page_state": encode_page_state(42), "limit": 20}
    assert parse_page_request(body) == (PageRequest(limit=20, after=42), [])


def test_every_problem_is_listed() -> None:
    _, problems = parse_page_request({"limit": 0, "page_state": "garbage!"})
    assert problems == [
        Problem("limit", "must be between 1 and 100"),
        Problem("page_state", NOT_ISSUED),
    ]


def test_with_a_contact_id_the_other_parameters_are_ignored() -> None:
    body = {"contact_id": CONTACT_ID.upper(), "limit": 0, "page_state": "garbage!"}
    assert parse_page_request(body) == (PageRequest(contact_id=CONTACT_ID), [])


@pytest.mark.parametrize(
    ("contact_id", "msg"),
    [
        ("not-a-uuid", "must be a UUID"),
        ("{" + CONTACT_ID + "}", "must be a UUID"),
        (12345, "must be a string"),
        (False, "must be a string"),
    ],
)
def test_a_malformed_contact_id_is_the_only_problem(contact_id: Any, msg: str) -> None:
    request, problems = parse_page_request({"contact_id": contact_id, "limit": 0})
    assert request.contact_id is None
    assert len(problems) == 1
    assert problems[0].field == "contact_id"
    assert problems[0].index is None
    assert problems[0].msg.startswith(msg)
