"""Refusing credentials that failed too often: per user id or app id, and per client address.

Failures are counted over a sliding window in the database, so every server
process sees the same counts, and a lock-out ends by itself when the window
moves past the failures. The throttle fails closed: an attempt is counted as a
failure before its password or secret is checked (`reserve`), and only a
successful check takes it back (`release`), so no error, crash or race in
between can make an attempt go uncounted, and concurrent attempts cannot
exceed the limit.
"""

from __future__ import annotations

import math

from sqlalchemy import Connection

from contacthub.clock import now_ms
from contacthub.domain import secrets
from contacthub.domain.addresses import throttle_key
from contacthub.errors import TooManyAttempts
from contacthub.services.policy import LoginPolicy
from contacthub.storage import login_failures
from contacthub.storage.login_failures import FailureKey


def credential_key(kind: str, identifier: str) -> str:
    """What failures are counted under: a digest, so the column is short and ids stay unlogged."""
    return secrets.digest(f"{kind}:{identifier}")


def reserve(connection: Connection, *, key: str, client_address: str, policy: LoginPolicy) -> int:
    """Count an attempt about to be checked; TooManyAttempts if its id or address is over the limit.

    Returns the attempt's id, for `release` once the check has succeeded.
    """
    address = throttle_key(client_address)
    login_failures.lock(connection, (f"throttle:user:{key}", f"throttle:address:{address}"))
    now = now_ms()
    limits: tuple[tuple[FailureKey, str, int], ...] = (
        ("user_key", key, policy.max_failures_per_user),
        ("client_address", address, policy.max_failures_per_address),
    )
    for by, value, limit in limits:
        oldest_counted = login_failures.nth_latest(
            connection, by=by, key=value, since_ms=now - policy.window_ms, n=limit
        )
        if oldest_counted is not None:
            wait_ms = oldest_counted + policy.window_ms - now
            raise TooManyAttempts(retry_after_seconds=max(1, math.ceil(wait_ms / 1000)))
    login_failures.prune(connection, before_ms=now - policy.window_ms)
    return login_failures.record(connection, user_key=key, client_address=address, now_ms=now)


def release(connection: Connection, attempt_id: int) -> None:
    """Take back an attempt that was not a failure (its check succeeded, or never ran)."""
    login_failures.delete_one(connection, failure_id=attempt_id)


def succeeded(connection: Connection, *, attempt_id: int, key: str) -> None:
    """A success clears the failures of its id (not of its address), its own attempt included."""
    login_failures.delete_one(connection, failure_id=attempt_id)
    login_failures.forget_user(connection, user_key=key)
