"""Apps (organizations): created by an operator, authenticated by id and secret."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, select

from contacthub.storage.dialect import insert_ignoring_conflicts
from contacthub.storage.tables import apps

# App ids look like TeleCMI's: seven digits, drawn at random so that they say
# nothing about how many apps a server holds.
_APPID_LOW, _APPID_HIGH = 1_000_000, 9_999_999


@dataclass(frozen=True, slots=True)
class AppRecord:
    id: int
    name: str
    secret_digest: str
    default_region: str | None


def create(
    connection: Connection,
    *,
    name: str,
    secret_digest: str,
    default_region: str | None,
    now_ms: int,
) -> int:
    while True:
        appid = secrets.randbelow(_APPID_HIGH - _APPID_LOW + 1) + _APPID_LOW
        inserted = connection.execute(
            insert_ignoring_conflicts(connection, apps)
            .values(
                id=appid,
                name=name,
                secret_digest=secret_digest,
                default_region=default_region,
                created_at=now_ms,
            )
            .returning(apps.c.id)
        ).scalar()
        if inserted is not None:
            return appid


def get(connection: Connection, *, appid: int) -> AppRecord | None:
    row = connection.execute(select(apps).where(apps.c.id == appid)).first()
    if row is None:
        return None
    return AppRecord(row.id, row.name, row.secret_digest, row.default_region)


def any_id(connection: Connection) -> int | None:
    """The id of some app, or None when there is none yet."""
    return connection.execute(select(apps.c.id).limit(1)).scalar()
