"""Which credentials a request carries, checked for presence and type only.

Whether they are right is the services' business; this is step 2 of the
contract's order of checks, answered with `400` before anything is looked up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contacthub.errors import InvalidRequest, Problem


def _missing(value: Any) -> bool:
    return value is None or value == ""


def user_token(body: dict[str, Any], authorization: str | None) -> str:
    """The login token: the body's `token` wins over an `Authorization: Bearer` header."""
    token = body.get("token")
    if not _missing(token):
        if not isinstance(token, str):
            raise InvalidRequest([Problem("token", "must be a string")])
        return token
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    raise InvalidRequest([Problem("token", "is required (in the body or as a Bearer header)")])


@dataclass(frozen=True, slots=True)
class AppCredentials:
    appid: int
    secret: str


def app_credentials(body: dict[str, Any]) -> AppCredentials:
    problems: list[Problem] = []
    appid, secret = body.get("appid"), body.get("secret")
    if _missing(appid):
        problems.append(Problem("appid", "is required"))
    elif isinstance(appid, bool) or not isinstance(appid, int):
        problems.append(Problem("appid", "must be an integer"))
    if _missing(secret):
        problems.append(Problem("secret", "is required"))
    elif not isinstance(secret, str):
        problems.append(Problem("secret", "must be a string"))
    if problems:
        raise InvalidRequest(problems)
    assert isinstance(appid, int)
    assert isinstance(secret, str)
    return AppCredentials(appid=appid, secret=secret)


@dataclass(frozen=True, slots=True)
class UserCredentials:
    user_id: str
    password: str


def user_credentials(body: dict[str, Any]) -> UserCredentials:
    problems: list[Problem] = []
    user_id, password = body.get("id"), body.get("password")
    for field, value in (("id", user_id), ("password", password)):
        if _missing(value):
            problems.append(Problem(field, "is required"))
        elif not isinstance(value, str):
            problems.append(Problem(field, "must be a string"))
    if problems:
        raise InvalidRequest(problems)
    assert isinstance(user_id, str)
    assert isinstance(password, str)
    return UserCredentials(user_id=user_id, password=password)
