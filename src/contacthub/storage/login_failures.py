"""Failed logins, counted per user id and per client address over a sliding window.

An attempt is recorded here before its password or secret is checked, and its
row deleted again if the check succeeds: a crash, a timeout or a database error
in between leaves it counted as a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import Connection, delete, func, select

from contacthub.storage.tables import login_failures

FailureKey = Literal["user_key", "client_address"]


def lock(connection: Connection, keys: Sequence[str]) -> None:
    """Hold, until the transaction ends, the right to count and record attempts under `keys`.

    PostgreSQL runs writers side by side, so two attempts could both count nine
    failures and both go on to be checked: a transaction-scoped advisory lock
    per key makes counting and recording one step. SQLite runs one writer at a
    time, which already does. Callers lock their keys in one fixed order.
    """
    if connection.dialect.name != "postgresql":
        return
    for key in keys:
        connection.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


def record(connection: Connection, *, user_key: str, client_address: str, now_ms: int) -> int:
    """The new failure's row id."""
    failure_id: int = connection.execute(
        login_failures.insert()
        .values(user_key=user_key, client_address=client_address, failed_at=now_ms)
        .returning(login_failures.c.id)
    ).scalar_one()
    return failure_id


def delete_one(connection: Connection, *, failure_id: int) -> None:
    connection.execute(delete(login_failures).where(login_failures.c.id == failure_id))


def forget_user(connection: Connection, *, user_key: str) -> None:
    connection.execute(delete(login_failures).where(login_failures.c.user_key == user_key))


def prune(connection: Connection, *, before_ms: int) -> None:
    connection.execute(delete(login_failures).where(login_failures.c.failed_at < before_ms))


def nth_latest(
    connection: Connection, *, by: FailureKey, key: str, since_ms: int, n: int
) -> int | None:
    """When the n-th most recent failure for `key` after `since_ms` happened; None if fewer."""
    column = login_failures.c[by]
    return connection.execute(
        select(login_failures.c.failed_at)
        .where(column == key, login_failures.c.failed_at > since_ms)
        .order_by(login_failures.c.failed_at.desc())
        .offset(n - 1)
        .limit(1)
    ).scalar()
