"""Users of an app, and the login tokens they are given."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, select, update

from contacthub.domain.users import Principal, UserDraft
from contacthub.storage.dialect import insert_ignoring_conflicts
from contacthub.storage.tables import apps, login_tokens, users


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    app_id: int
    extension: int
    name: str
    password_hash: str


def create(
    connection: Connection, *, app_id: int, draft: UserDraft, password_hash: str, now_ms: int
) -> int | None:
    """The new user's row id, or None when the app already has a user with that extension."""
    return connection.execute(
        insert_ignoring_conflicts(connection, users)
        .values(
            app_id=app_id,
            extension=draft.extension,
            name=draft.name,
            phone_number=draft.phone_number,
            password_hash=password_hash,
            start_time=draft.start_time,
            end_time=draft.end_time,
            sms_alert=draft.sms_alert,
            created_at=now_ms,
        )
        .returning(users.c.id)
    ).scalar()


def find(connection: Connection, *, app_id: int, extension: int) -> UserRecord | None:
    row = connection.execute(
        select(
            users.c.id, users.c.app_id, users.c.extension, users.c.name, users.c.password_hash
        ).where(users.c.app_id == app_id, users.c.extension == extension)
    ).first()
    return None if row is None else UserRecord(*row)


def set_password_hash(connection: Connection, *, user_id: int, password_hash: str) -> None:
    connection.execute(
        update(users).where(users.c.id == user_id).values(password_hash=password_hash)
    )


def add_token(
    connection: Connection, *, user_id: int, token_digest: str, now_ms: int, expires_at: int
) -> None:
    connection.execute(
        login_tokens.insert().values(
            token_digest=token_digest, user_id=user_id, created_at=now_ms, expires_at=expires_at
        )
    )
    # Expired tokens are useless; sweeping them here keeps the table small
    # without a background job, and the index on expires_at keeps it cheap.
    connection.execute(delete(login_tokens).where(login_tokens.c.expires_at <= now_ms))


def delete_token(connection: Connection, *, token_digest: str) -> None:
    connection.execute(delete(login_tokens).where(login_tokens.c.token_digest == token_digest))


def delete_tokens_of(connection: Connection, *, user_id: int) -> int:
    """How many tokens the user had."""
    result = connection.execute(delete(login_tokens).where(login_tokens.c.user_id == user_id))
    return result.rowcount


def principal_for_token(
    connection: Connection, *, token_digest: str, now_ms: int
) -> Principal | None:
    row = connection.execute(
        select(users.c.id, users.c.app_id, apps.c.default_region, login_tokens.c.expires_at)
        .select_from(login_tokens.join(users).join(apps))
        .where(login_tokens.c.token_digest == token_digest, login_tokens.c.expires_at > now_ms)
    ).first()
    return None if row is None else Principal(*row)
