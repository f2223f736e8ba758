"""Secrets the server made for itself at its first migration."""

from __future__ import annotations

from sqlalchemy import Connection, select

from contacthub.storage.tables import instance_secrets

PAGE_STATE_KEY = "page_state_key"


def secret(connection: Connection, name: str) -> str:
    value = connection.execute(
        select(instance_secrets.c.value).where(instance_secrets.c.name == name)
    ).scalar()
    if value is None:
        raise LookupError(f"instance secret {name!r} is missing: run `contacthub db upgrade`")
    return str(value)
