"""Paging: the sealed page_state cursor and the rest of a `v3/contact/get` request."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from cryptography.fernet import Fernet

from contacthub.domain.fields import FieldInvalid
from contacthub.domain.paging import DEFAULT_LIMIT, PageRequest, PageStateCodec
from contacthub.domain.paging import parse_page_request as parse_with
from contacthub.domain.search import SearchTerm, parse_search
from contacthub.errors import Problem

NOT_ISSUED = "is not a page_state this server issued for this search"
CONTACT_ID = "0190a7b2-5c3e-7d4f-8a1b-2c3d4e5f6a7b"
BIGINT_MAX = 2**63 - 1  # contacts.seq is a BIGINT
APP = 1234567
CODEC = PageStateCodec(Fernet.generate_key().decode())
parse_page_request = partial(parse_with, codec=CODEC, app_id=APP)


def seal(position: int, app_id: int = APP, search: SearchTerm | None = None) -> str:
    return CODEC.seal(app_id=app_id, search=search, position=position)


@pytest.mark.parametrize("position", [0, 1, 5, 42, 10**9, BIGINT_MAX])
def test_page_state_round_trips(position: int) -> None:
    assert CODEC.open(seal(position), app_id=APP, search=None) == position


def test_page_state_is_url_safe_and_reveals_nothing() -> None:
    state = seal(5)
    assert set(state) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
    # Sealed twice, the same position looks different: nothing to compare or count.
    assert seal(5) != state


def test_a_page_state_is_bound_to_its_organization() -> None:
    with pytest.raises(FieldInvalid) as caught:
        CODEC.open(seal(5, app_id=APP + 1), app_id=APP, search=None)
    assert caught.value.msg == NOT_ISSUED


def test_a_page_state_is_bound_to_its_search() -> None:
    ann, bob = parse_search("ann"), parse_search("bob")
    state = seal(5, search=ann)
    assert CODEC.open(state, app_id=APP, search=parse_search("  ANN ")) == 5
    for other in (bob, None):
        with pytest.raises(FieldInvalid):
            CODEC.open(state, app_id=APP, search=other)


def test_a_page_state_sealed_with_another_key_is_refused() -> None:
    foreign = PageStateCodec(Fernet.generate_key().decode())
    with pytest.raises(FieldInvalid):
        CODEC.open(foreign.seal(app_id=APP, search=None, position=5), app_id=APP, search=None)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("!!!", id="garbage"),
        pytest.param("not a cursor", id="words"),
        pytest.param("c1:5", id="old-plain-form"),
        pytest.param("YzE6NQ", id="old-base64-form"),
        pytest.param("é", id="non-ascii"),
        pytest.param("x" * 600, id="too-long"),
    ],
)
def test_malformed_page_states_are_refused(value: str) -> None:
    with pytest.raises(FieldInvalid) as caught:
        CODEC.open(value, app_id=APP, search=None)
    assert caught.value.msg == NOT_ISSUED


def test_any_altered_character_is_refused() -> None:
    state = seal(5)
    for position in (0, len(state) // 2, len(state) - 2):
        flipped = "A" if state[position] != "A" else "B"
        altered = state[:position] + flipped + state[position + 1 :]
        with pytest.raises(FieldInvalid):
            CODEC.open(altered, app_id=APP, search=None)


@pytest.mark.parametrize("value", [5, 5.0, True, ["x"], {"after": 5}])
def test_non_string_page_states_are_refused(value: Any) -> None:
    with pytest.raises(FieldInvalid) as caught:
        CODEC.open(value, app_id=APP, search=None)
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
    body = {"page_state": seal(42), "limit": 20}
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


def test_a_search_is_parsed_and_binds_the_page_state() -> None:
    state = seal(7, search=parse_search("ann"))
    request, problems = parse_page_request({"search": " Ann ", "page_state": state})
    assert problems == []
    assert request.after == 7
    assert request.search == SearchTerm(folded="ann", digits="")


def test_a_bad_search_is_listed_and_the_page_state_not_judged_without_it() -> None:
    _, problems = parse_page_request({"search": 5, "page_state": "garbage", "limit": 0})
    assert problems == [
        Problem("limit", "must be between 1 and 100"),
        Problem("search", "must be a string or null"),
    ]
