"""Users: adding them to an app, logging them in, and recognising their tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from contacthub.clock import now_ms
from contacthub.domain import secrets
from contacthub.domain.credentials import AppCredentials, UserCredentials
from contacthub.domain.users import UserDraft, parse_new_user, split_user_id, user_id
from contacthub.errors import (
    ExtensionTaken,
    InvalidRequest,
    NotAuthenticated,
)
from contacthub.services import apps as apps_service
from contacthub.services import throttle
from contacthub.services.policy import LoginPolicy
from contacthub.storage import users
from contacthub.storage.users import Principal, UserRecord

WRONG_LOGIN = "Invalid user id or password"


@dataclass(frozen=True, slots=True)
class AddedUser:
    agent_id: str
    name: str
    extension: int


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """What step one of a login found: the user (if any) whose password is to be checked."""

    credentials: UserCredentials
    client_address: str
    user: UserRecord | None
    appid: int | None


@dataclass(frozen=True, slots=True)
class LoggedIn:
    token: str
    agent_id: str
    appid: int
    name: str


@dataclass(frozen=True, slots=True)
class NewUser:
    """A user to add that passed every check: its app's secret and its own fields."""

    app_id: int
    draft: UserDraft


# Adding a user, like a login, hashes its password between two short
# transactions: argon2 takes ~90 ms on purpose, and inside the write it would
# hold up every other writer (SQLite's lock is the whole file).


def check_new_user(
    connection: Connection, credentials: AppCredentials, body: dict[str, Any]
) -> NewUser:
    """Read-only: the app's secret, then the user's fields (by the app's default region)."""
    app = apps_service.authenticate(connection, credentials)
    draft, problems = parse_new_user(body, default_region=app.default_region)
    if problems or draft is None:
        raise InvalidRequest(problems)
    return NewUser(app.id, draft)


def password_hash(new_user: NewUser) -> str:
    """The hash to store for the password: argon2, slow on purpose, so not in a transaction."""
    return secrets.hash_password(new_user.draft.password)


def add(connection: Connection, new_user: NewUser, password_hash: str) -> AddedUser:
    """Store a checked user with its password's hash (`password_hash`)."""
    appid, draft = new_user.app_id, new_user.draft
    row_id = users.create(
        connection, app_id=appid, draft=draft, password_hash=password_hash, now_ms=now_ms()
    )
    if row_id is None:
        raise ExtensionTaken()
    return AddedUser(user_id(draft.extension, appid), draft.name, draft.extension)


# A login runs in two short transactions with the password check between
# them, for the same reason.


def begin_login(
    connection: Connection, credentials: UserCredentials, client_address: str, policy: LoginPolicy
) -> LoginAttempt:
    """Refuse throttled ids and addresses, then find the user whose password to check."""
    throttle.refuse_if_throttled(
        connection,
        key=_user_key(credentials.user_id),
        client_address=client_address,
        policy=policy,
    )

    parts = split_user_id(credentials.user_id)
    if parts is None:
        return LoginAttempt(credentials, client_address, None, None)
    extension, appid = parts
    user = users.find(connection, app_id=appid, extension=extension)
    return LoginAttempt(credentials, client_address, user, appid)


def password_matches(attempt: LoginAttempt) -> bool:
    stored = attempt.user.password_hash if attempt.user else None
    return secrets.verify_password(stored, attempt.credentials.password)


def finish_login(
    connection: Connection, attempt: LoginAttempt, *, password_ok: bool, policy: LoginPolicy
) -> LoggedIn | None:
    """Record the outcome: a new token on success, a counted failure otherwise (then None)."""
    now = now_ms()
    user_key = _user_key(attempt.credentials.user_id)
    if not password_ok or attempt.user is None or attempt.appid is None:
        throttle.record_failure(
            connection, key=user_key, client_address=attempt.client_address, policy=policy
        )
        return None

    user = attempt.user
    throttle.forget(connection, key=user_key)
    if secrets.password_needs_rehash(user.password_hash):
        users.set_password_hash(
            connection,
            user_id=user.id,
            password_hash=secrets.hash_password(attempt.credentials.password),
        )
    token = secrets.new_secret()
    users.add_token(
        connection,
        user_id=user.id,
        token_digest=secrets.digest(token),
        now_ms=now,
        expires_at=now + policy.token_ttl_ms,
    )
    return LoggedIn(token, user_id(user.extension, attempt.appid), attempt.appid, user.name)


def authenticate(connection: Connection, token: str) -> Principal:
    principal = users.principal_for_token(
        connection, token_digest=secrets.digest(token), now_ms=now_ms()
    )
    if principal is None:
        raise NotAuthenticated()
    return principal


def _user_key(raw_user_id: str) -> str:
    """Failures are counted per user id as given."""
    return throttle.credential_key("user", raw_user_id)
