"""Refusing credentials that failed too often: per user id or app id, and per client address.

Failures are counted over a sliding window in the database, so every server
process sees the same counts, and a lock-out ends by itself when the window
moves past the failures.
"""

from __future__ import annotations

import math

from sqlalchemy import Connection

from contacthub.clock import now_ms
from contacthub.domain import secrets
from contacthub.errors import TooManyAttempts
from contacthub.services.policy import LoginPolicy
from contacthub.storage import login_failures
from contacthub.storage.login_failures import FailureKey


def credential_key(kind: str, identifier: str) -> str:
    """What failures are counted under: a digest, so the column is short and ids stay unlogged."""
    return secrets.digest(f"{kind}:{identifier}")


def refuse_if_throttled(
    connection: Connection, *, key: str, client_address: str, policy: LoginPolicy
) -> None:
    now = now_ms()
    limits: tuple[tuple[FailureKey, str, int], ...] = (
        ("user_key", key, policy.max_failures_per_user),
        ("client_address", client_address, policy.max_failures_per_address),
    )
    for by, value, limit in limits:
        oldest_counted = login_failures.nth_latest(
            connection, by=by, key=value, since_ms=now - policy.window_ms, n=limit
        )
        if oldest_counted is not None:
            wait_ms = oldest_counted + policy.window_ms - now
            raise TooManyAttempts(retry_after_seconds=max(1, math.ceil(wait_ms / 1000)))


def record_failure(
    connection: Connection, *, key: str, client_address: str, policy: LoginPolicy
) -> None:
    now = now_ms()
    login_failures.prune(connection, before_ms=now - policy.window_ms)
    login_failures.record(connection, user_key=key, client_address=client_address, now_ms=now)


def forget(connection: Connection, *, key: str) -> None:
    """A success clears the failures of its id (not of its address)."""
    login_failures.forget_user(connection, user_key=key)
