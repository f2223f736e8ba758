"""Failed logins, counted per user id and per client address over a sliding window."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import Connection, delete, select

from contacthub.storage.tables import login_failures

FailureKey = Literal["user_key", "client_address"]


def record(connection: Connection, *, user_key: str, client_address: str, now_ms: int) -> None:
    connection.execute(
        login_failures.insert().values(
            user_key=user_key, client_address=client_address, failed_at=now_ms
        )
    )


def forget_user(connection: Connection, *, user_key: str) -> None:
    connection.execute(delete(login_failures).where(login_failures.c.user_key == user_key))


def prune(connection: Connection, *, before_ms: int) -> None:
    connection.execute(delete(login_failures).where(login_failures.c.failed_at < before_ms))


def nth_latest(
    connection: Connection, *, by: FailureKey, key: str, since_ms: int, n: int
) -> int | None:
    """When the n-th most recent failure for `key` since `since_ms` happened; None if fewer."""
    column = login_failures.c[by]
    return connection.execute(
        select(login_failures.c.failed_at)
        .where(column == key, login_failures.c.failed_at >= since_ms)
        .order_by(login_failures.c.failed_at.desc())
        .offset(n - 1)
        .limit(1)
    ).scalar()
