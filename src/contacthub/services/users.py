"""Users: adding them to an app, logging them in, and recognising their tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from contacthub.clock import now_ms
from contacthub.domain import secrets
from contacthub.domain.credentials import AppCredentials, UserCredentials
from contacthub.domain.users import Principal, UserDraft, parse_new_user, split_user_id, user_id
from contacthub.errors import (
    ExtensionTaken,
    InvalidRequest,
    NotAuthenticated,
)
from contacthub.services import apps as apps_service
from contacthub.services import throttle
from contacthub.services.hashing import HashingBusy, PasswordHashing
from contacthub.services.policy import LoginPolicy
from contacthub.services.transactions import Transactions
from contacthub.storage import users
from contacthub.storage.users import UserRecord

WRONG_LOGIN = "Invalid user id or password"


@dataclass(frozen=True, slots=True)
class AddedUser:
    agent_id: str
    name: str
    extension: int


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """A login counted against the throttle (`attempt_id`), and the user, if any, whose
    password is to be checked."""

    credentials: UserCredentials
    attempt_id: int
    user: UserRecord | None
    appid: int | None

    @property
    def user_key(self) -> str:
        return _user_key(self.credentials.user_id)


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    matches: bool
    # The password hashed again with today's costs, when the stored hash's are older.
    new_hash: str | None = None


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


# Adding a user, like a login, hashes its password between short transactions:
# argon2 takes ~90 ms on purpose, and inside the write it would hold up every
# other writer (SQLite's lock is the whole file).


async def add_user(
    transactions: Transactions,
    hashing: PasswordHashing,
    *,
    credentials: AppCredentials,
    body: dict[str, Any],
    client_address: str,
    policy: LoginPolicy,
) -> AddedUser:
    """`v2/user/add`: the app's secret, throttled like a password, then the user's fields."""
    # Wrong app secrets are throttled like wrong passwords: per app id and per address.
    key = throttle.credential_key("app", str(credentials.appid))
    attempt_id = await transactions.writing(
        throttle.reserve, key=key, client_address=client_address, policy=policy
    )
    try:
        new_user = await transactions.reading(check_new_user, credentials, body)
        hashed = await hashing.run(password_hash, new_user)
    except NotAuthenticated:
        raise  # a wrong secret: the attempt stays counted
    except Exception:
        await transactions.writing(throttle.release, attempt_id)
        raise
    try:
        return await transactions.writing(add, new_user, hashed, attempt_id)
    except ExtensionTaken:
        # The secret was right; the refusal rolled back `add`'s release of the attempt.
        await transactions.writing(throttle.release, attempt_id)
        raise


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


def add(
    connection: Connection, new_user: NewUser, password_hash: str, attempt_id: int | None = None
) -> AddedUser:
    """Store a checked user with its password's hash, taking back the throttle's count of
    the attempt (`attempt_id`) whose app secret was right."""
    if attempt_id is not None:
        throttle.release(connection, attempt_id)
    appid, draft = new_user.app_id, new_user.draft
    row_id = users.create(
        connection, app_id=appid, draft=draft, password_hash=password_hash, now_ms=now_ms()
    )
    if row_id is None:
        raise ExtensionTaken()
    return AddedUser(user_id(draft.extension, appid), draft.name, draft.extension)


async def log_in(
    transactions: Transactions,
    hashing: PasswordHashing,
    *,
    credentials: UserCredentials,
    client_address: str,
    policy: LoginPolicy,
) -> LoggedIn:
    """`v2/user/login` and the dashboard's: a new token, or NotAuthenticated(WRONG_LOGIN).

    The attempt is counted before the password is checked and taken back only
    when it matches (services/throttle.py); TooManyAttempts when over the limit,
    HashingBusy when the server is checking as many passwords as it may.
    """
    attempt = await transactions.writing(begin_login, credentials, client_address, policy)
    try:
        check = await hashing.run(check_password, attempt)
    except HashingBusy:
        await transactions.writing(throttle.release, attempt.attempt_id)
        raise
    if not check.matches:
        raise NotAuthenticated(WRONG_LOGIN)
    return await transactions.writing(finish_login, attempt, check, policy)


def begin_login(
    connection: Connection, credentials: UserCredentials, client_address: str, policy: LoginPolicy
) -> LoginAttempt:
    """Count the attempt (refusing throttled ids and addresses), then find its user."""
    attempt_id = throttle.reserve(
        connection,
        key=_user_key(credentials.user_id),
        client_address=client_address,
        policy=policy,
    )
    parts = split_user_id(credentials.user_id)
    if parts is None:
        return LoginAttempt(credentials, attempt_id, None, None)
    extension, appid = parts
    user = users.find(connection, app_id=appid, extension=extension)
    return LoginAttempt(credentials, attempt_id, user, appid)


def check_password(attempt: LoginAttempt) -> PasswordCheck:
    """The slow part, outside any transaction: argon2, and a new hash if the costs changed."""
    stored = attempt.user.password_hash if attempt.user else None
    if not secrets.verify_password(stored, attempt.credentials.password):
        return PasswordCheck(matches=False)
    if stored is not None and secrets.password_needs_rehash(stored):
        return PasswordCheck(True, secrets.hash_password(attempt.credentials.password))
    return PasswordCheck(True)


def finish_login(
    connection: Connection, attempt: LoginAttempt, check: PasswordCheck, policy: LoginPolicy
) -> LoggedIn:
    """A matching password: its attempt and the id's failures forgotten, and a new token."""
    user, appid = attempt.user, attempt.appid
    assert user is not None
    assert appid is not None
    throttle.succeeded(connection, attempt_id=attempt.attempt_id, key=attempt.user_key)
    if check.new_hash is not None:
        users.set_password_hash(connection, user_id=user.id, password_hash=check.new_hash)
    now = now_ms()
    token = secrets.new_secret()
    users.add_token(
        connection,
        user_id=user.id,
        token_digest=secrets.digest(token),
        now_ms=now,
        expires_at=now + policy.token_ttl_ms,
    )
    return LoggedIn(token, user_id(user.extension, appid), appid, user.name)


def log_out(connection: Connection, token: str) -> None:
    """The token stops working (every process refuses it within token_recheck_seconds)."""
    users.delete_token(connection, token_digest=secrets.digest(token))


def revoke_tokens(connection: Connection, raw_user_id: str) -> int:
    """Every token of the user `<extension>_<appid>` stops working; how many there were.

    NotAuthenticated when there is no such user.
    """
    parts = split_user_id(raw_user_id)
    user = users.find(connection, app_id=parts[1], extension=parts[0]) if parts else None
    if user is None:
        raise NotAuthenticated(f"No user {raw_user_id!r}")
    return users.delete_tokens_of(connection, user_id=user.id)


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
