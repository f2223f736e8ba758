"""What a user of an app is, and how its public id is spelt."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contacthub.domain.fields import FieldInvalid, integer_in_range, required_text
from contacthub.domain.phones import normalise_phone
from contacthub.errors import Problem

MAX_EXTENSION = 99999
NAME_MAX_LENGTH = 100
PASSWORD_MIN_LENGTH = 8
# argon2 would hash a megabyte just as well; the cap keeps a login cheap to refuse.
PASSWORD_MAX_LENGTH = 1024
LAST_HOUR = 24  # start_time and end_time: hours of the day, 0 to 24
_USER_ID = re.compile(r"([1-9][0-9]{0,4})_([1-9][0-9]{0,17})")


@dataclass(frozen=True, slots=True)
class UserDraft:
    extension: int
    name: str
    phone_number: str
    password: str
    start_time: int | None = None
    end_time: int | None = None
    sms_alert: bool | None = None


def user_id(extension: int, appid: int) -> str:
    """TeleCMI spells a user id `<extension>_<appid>`."""
    return f"{extension}_{appid}"


def split_user_id(value: str) -> tuple[int, int] | None:
    """(extension, appid) of a well-formed user id, else None."""
    match = _USER_ID.fullmatch(value)
    if match is None:
        return None
    return int(match[1]), int(match[2])


def _password(value: Any) -> str:
    if value is None:
        raise FieldInvalid("is required")
    if not isinstance(value, str):
        raise FieldInvalid("must be a string")
    if not PASSWORD_MIN_LENGTH <= len(value) <= PASSWORD_MAX_LENGTH:
        raise FieldInvalid(
            f"must be {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters long"
        )
    return value


def _optional_hour(value: Any) -> int | None:
    return None if value is None else integer_in_range(value, low=0, high=LAST_HOUR)


def _optional_flag(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise FieldInvalid("must be true or false")


def parse_new_user(
    body: dict[str, Any], *, default_region: str | None
) -> tuple[UserDraft | None, list[Problem]]:
    """Check the fields of `v2/user/add` (credentials aside); unknown top-level keys are ignored."""
    rules: dict[str, Callable[[Any], Any]] = {
        "extension": lambda value: integer_in_range(value, low=1, high=MAX_EXTENSION),
        "name": lambda value: required_text(value, max_length=NAME_MAX_LENGTH),
        "phone_number": lambda value: normalise_phone(value, default_region),
        "password": _password,
        "start_time": _optional_hour,
        "end_time": _optional_hour,
        "sms_alert": _optional_flag,
    }
    cleaned: dict[str, Any] = {}
    problems: list[Problem] = []
    for field, rule in rules.items():
        try:
            cleaned[field] = rule(body.get(field))
        except FieldInvalid as exc:
            problems.append(Problem(field, exc.msg))
    if problems:
        return None, problems
    return UserDraft(**cleaned), []


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid token speaks for, and the organization its every query is scoped to."""

    user_id: int
    app_id: int
    default_region: str | None
    # When the token stops speaking for anyone, unless revoked before (log out,
    # `contacthub user revoke-tokens`).
    token_expires_at: int
