"""Stored answers to requests sent with an Idempotency-Key, per user and path."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, select

from contacthub.storage.dialect import insert_ignoring_conflicts
from contacthub.storage.tables import idempotency_keys


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    request_digest: str
    status_code: int
    response_body: str
    created_at: int


def claim(
    connection: Connection,
    *,
    user_id: int,
    path: str,
    key: str,
    request_digest: str,
    now_ms: int,
) -> bool:
    """Take the key for this request; False if it is already taken.

    The row is written before the operation runs and in the same transaction:
    a second request with the key waits on the primary key until the first
    commits (and then finds its answer) or rolls back (and then takes the key).
    The placeholder answer is replaced by `record` before the commit.
    """
    claimed = connection.execute(
        insert_ignoring_conflicts(connection, idempotency_keys)
        .values(
            user_id=user_id,
            path=path,
            key=key,
            request_digest=request_digest,
            status_code=0,
            response_body="",
            created_at=now_ms,
        )
        .returning(idempotency_keys.c.key)
    ).scalar()
    return claimed is not None


def find(connection: Connection, *, user_id: int, path: str, key: str) -> StoredAnswer | None:
    row = connection.execute(
        select(
            idempotency_keys.c.request_digest,
            idempotency_keys.c.status_code,
            idempotency_keys.c.response_body,
            idempotency_keys.c.created_at,
        ).where(
            idempotency_keys.c.user_id == user_id,
            idempotency_keys.c.path == path,
            idempotency_keys.c.key == key,
        )
    ).first()
    return None if row is None else StoredAnswer(*row)


def record(
    connection: Connection,
    *,
    user_id: int,
    path: str,
    key: str,
    status_code: int,
    response_body: str,
) -> None:
    connection.execute(
        idempotency_keys.update()
        .where(
            idempotency_keys.c.user_id == user_id,
            idempotency_keys.c.path == path,
            idempotency_keys.c.key == key,
        )
        .values(status_code=status_code, response_body=response_body)
    )


def forget(connection: Connection, *, user_id: int, path: str, key: str) -> None:
    connection.execute(
        delete(idempotency_keys).where(
            idempotency_keys.c.user_id == user_id,
            idempotency_keys.c.path == path,
            idempotency_keys.c.key == key,
        )
    )


def prune(connection: Connection, *, before_ms: int) -> None:
    connection.execute(delete(idempotency_keys).where(idempotency_keys.c.created_at < before_ms))
