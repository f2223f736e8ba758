"""Creating an app (an organization) and checking its secret."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from contacthub.clock import now_ms
from contacthub.domain import secrets
from contacthub.domain.credentials import AppCredentials
from contacthub.domain.fields import FieldInvalid, required_text
from contacthub.domain.phones import normalise_region
from contacthub.errors import NotAuthenticated
from contacthub.storage import apps
from contacthub.storage.apps import AppRecord

APP_NAME_MAX_LENGTH = 100
_MAX_APPID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class NewApp:
    appid: int
    secret: str
    name: str
    default_region: str | None


def check_new_app(name: str, default_region: str | None) -> tuple[str, str | None]:
    """The app's cleaned name and region; raises FieldInvalid naming what is wrong."""
    try:
        clean_name = required_text(name, max_length=APP_NAME_MAX_LENGTH)
    except FieldInvalid as exc:
        raise FieldInvalid(f"name {exc.msg}") from None
    region = normalise_region(default_region) if default_region else None
    return clean_name, region


def create(connection: Connection, *, name: str, default_region: str | None) -> NewApp:
    clean_name, region = check_new_app(name, default_region)
    secret = secrets.new_secret()
    appid = apps.create(
        connection,
        name=clean_name,
        secret_digest=secrets.digest(secret),
        default_region=region,
        now_ms=now_ms(),
    )
    return NewApp(appid=appid, secret=secret, name=clean_name, default_region=region)


def any_appid(connection: Connection) -> int | None:
    """The appid of an existing app, or None on a fresh installation."""
    return apps.any_id(connection)


def authenticate(connection: Connection, credentials: AppCredentials) -> AppRecord:
    app = (
        apps.get(connection, appid=credentials.appid)
        if 0 < credentials.appid <= _MAX_APPID
        else None
    )
    if app is None or not secrets.digest_matches(credentials.secret, app.secret_digest):
        raise NotAuthenticated()
    return app
