"""Users of an app: the fields of `v2/user/add` and how a user id is spelt."""

from __future__ import annotations

from typing import Any

import pytest

from contacthub.domain.users import UserDraft, parse_new_user, split_user_id, user_id
from contacthub.errors import Problem


def new_user(**changes: Any) -> dict[str, Any]:
    """A valid `v2/user/add` body with `changes` applied; a value of `...` removes the key."""
    body = {
        "appid": 1111112,
        "secret": "s3cret",
        "extension": 101,
        "name": "Asha Rao",
        "phone_number": "+91 92000 11111",
        "password": "correct horse",
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}


def problems(body: dict[str, Any], default_region: str | None = None) -> list[Problem]:
    draft, found = parse_new_user(body, default_region=default_region)
    assert draft is None
    return found


def test_a_minimal_user() -> None:
    assert parse_new_user(new_user(), default_region=None) == (
        UserDraft(
            extension=101, name="Asha Rao", phone_number="919200011111", password="correct horse"
        ),
        [],
    )


def test_a_full_user_with_a_national_number() -> None:
    body = new_user(
        name="  Asha Rao ",
        phone_number="92000 11111",
        start_time=9,
        end_time=18,
        sms_alert=True,
    )
    assert parse_new_user(body, default_region="IN") == (
        UserDraft(
            extension=101,
            name="Asha Rao",
            phone_number="919200011111",
            password="correct horse",
            start_time=9,
            end_time=18,
            sms_alert=True,
        ),
        [],
    )


def test_unknown_top_level_keys_are_ignored() -> None:
    draft, found = parse_new_user(
        new_user(nickname="Ash", contacts=[], token="t"), default_region=None
    )
    assert found == []
    assert draft is not None


@pytest.mark.parametrize("extension", [1, 101, 99999])
def test_extensions_from_1_to_99999_are_accepted(extension: int) -> None:
    draft, found = parse_new_user(new_user(extension=extension), default_region=None)
    assert found == []
    assert draft is not None
    assert draft.extension == extension


@pytest.mark.parametrize(
    ("extension", "msg"),
    [
        (0, "must be between 1 and 99999"),
        (-1, "must be between 1 and 99999"),
        (100000, "must be between 1 and 99999"),
        # JSON true is not the number 1.
        (True, "must be an integer"),
        ("101", "must be an integer"),
        (101.0, "must be an integer"),
        (None, "is required"),
        (..., "is required"),
    ],
)
def test_bad_extensions_are_refused(extension: Any, msg: str) -> None:
    assert problems(new_user(extension=extension)) == [Problem("extension", msg)]


@pytest.mark.parametrize(
    ("password", "msg"),
    [
        ("1234567", "must be 8 to 1024 characters long"),
        ("", "must be 8 to 1024 characters long"),
        ("x" * 1025, "must be 8 to 1024 characters long"),
        (12345678, "must be a string"),
        (None, "is required"),
    ],
)
def test_bad_passwords_are_refused(password: Any, msg: str) -> None:
    assert problems(new_user(password=password)) == [Problem("password", msg)]


@pytest.mark.parametrize("password", ["12345678", "        ", "пароль12", "x" * 1024])
def test_passwords_of_8_characters_or_more_are_kept_as_sent(password: str) -> None:
    draft, found = parse_new_user(new_user(password=password), default_region=None)
    assert found == []
    assert draft is not None
    # Never trimmed: a password is matched exactly as typed.
    assert draft.password == password


@pytest.mark.parametrize("field", ["start_time", "end_time"])
@pytest.mark.parametrize("hour", [None, 0, 12, 24])
def test_hours_from_0_to_24_are_accepted(field: str, hour: int | None) -> None:
    draft, found = parse_new_user(new_user(**{field: hour}), default_region=None)
    assert found == []
    assert getattr(draft, field) == hour


@pytest.mark.parametrize("field", ["start_time", "end_time"])
@pytest.mark.parametrize(
    ("hour", "msg"),
    [
        (-1, "must be between 0 and 24"),
        (25, "must be between 0 and 24"),
        (True, "must be an integer"),
        ("9", "must be an integer"),
        (9.5, "must be an integer"),
    ],
)
def test_hours_outside_0_to_24_are_refused(field: str, hour: Any, msg: str) -> None:
    assert problems(new_user(**{field: hour})) == [Problem(field, msg)]


@pytest.mark.parametrize("flag", [True, False, None])
def test_sms_alert_is_a_boolean(flag: bool | None) -> None:
    draft, found = parse_new_user(new_user(sms_alert=flag), default_region=None)
    assert found == []
    assert draft is not None
    assert draft.sms_alert is flag


@pytest.mark.parametrize("flag", [1, 0, "true", "false", [True]])
def test_sms_alert_of_another_type_is_refused(flag: Any) -> None:
    assert problems(new_user(sms_alert=flag)) == [Problem("sms_alert", "must be true or false")]


@pytest.mark.parametrize(
    ("name", "msg"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("x" * 101, "must be at most 100 characters"),
        ("As\x00ha", "must not contain control characters"),
        (7, "must be a string"),
    ],
)
def test_bad_names_are_refused(name: Any, msg: str) -> None:
    assert problems(new_user(name=name)) == [Problem("name", msg)]


def test_the_phone_number_is_checked_like_a_contacts() -> None:
    assert problems(new_user(phone_number="92000 11111")) == [
        Problem("phone_number", "is not a valid phone number")
    ]


def test_every_problem_is_listed_at_once() -> None:
    found = problems(
        new_user(
            extension=0,
            name=...,
            phone_number="+91 92000",
            password="short",
            start_time=25,
            end_time=-1,
            sms_alert="yes",
        )
    )
    assert {p.field: p.msg for p in found} == {
        "extension": "must be between 1 and 99999",
        "name": "is required",
        "phone_number": "is not a valid phone number",
        "password": "must be 8 to 1024 characters long",
        "start_time": "must be between 0 and 24",
        "end_time": "must be between 0 and 24",
        "sms_alert": "must be true or false",
    }
    assert len(found) == 7
    assert all(p.index is None for p in found)


def test_an_empty_body_lists_every_required_field() -> None:
    assert {p.field for p in problems({})} == {"extension", "name", "phone_number", "password"}


# --- user ids ---------------------------------------------------------------


def test_user_id_is_extension_underscore_appid() -> None:
    assert user_id(101, 1111112) == "101_1111112"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("101_1111112", (101, 1111112)),
        ("1_1", (1, 1)),
        ("99999_1111112", (99999, 1111112)),
        ("5_999999999999999999", (5, 999999999999999999)),
    ],
)
def test_split_user_id(value: str, expected: tuple[int, int]) -> None:
    assert split_user_id(value) == expected
    assert user_id(*expected) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "101",
        "101_",
        "_1111112",
        "101-1111112",
        "101_1111112_1",
        "0_1111112",
        "0101_1111112",
        "101_01111112",
        "100000_1111112",
        "101_1111112 ",
        " 101_1111112",
        "101_1111112\n",
        "-1_1111112",
        "abc_def",
        "١٠١_١١١١١١٢",
    ],
)
def test_malformed_user_ids_do_not_split(value: str) -> None:
    assert split_user_id(value) is None
