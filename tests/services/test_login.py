"""Logging in and adding users, as use cases: the throttle's window and a token's lifetime,
with the time moved by the test instead of waited for."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from contacthub import clock
from contacthub.config import Settings
from contacthub.domain.credentials import AppCredentials, UserCredentials
from contacthub.edge.context import AppContext
from contacthub.errors import ExtensionTaken, NotAuthenticated, TooManyAttempts
from contacthub.services import apps as apps_service
from contacthub.services import users as users_service
from contacthub.storage import migrate
from contacthub.storage.database import Database

WINDOW_SECONDS = 60
TOKEN_TTL_SECONDS = 120
PASSWORD = "correct horse battery"


class ManualClock:
    def __init__(self) -> None:
        self.ms = 1_800_000_000_000

    def __call__(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)


@pytest.fixture
def time() -> Iterator[ManualClock]:
    manual = ManualClock()
    with clock.using(manual):
        yield manual


@pytest.fixture
def context(tmp_path: Path, time: ManualClock) -> Iterator[AppContext]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'contacthub.db'}",
        login_max_failures_per_id=3,
        login_max_failures_per_address=8,
        login_window_seconds=WINDOW_SECONDS,
        token_ttl_seconds=TOKEN_TTL_SECONDS,
    )
    database = Database(settings.database_url)
    migrate.upgrade(database)
    yield AppContext(settings=settings, database=database)
    database.dispose()


@pytest.fixture
def app(context: AppContext) -> apps_service.NewApp:
    with context.database.transaction(write=True) as connection:
        return apps_service.create(connection, name="Acme", default_region="IN")


def add_user(
    context: AppContext,
    app: apps_service.NewApp,
    *,
    secret: str | None = None,
    extension: int = 101,
) -> users_service.AddedUser:
    return asyncio.run(
        users_service.add_user(
            context,
            context.hashing,
            credentials=AppCredentials(app.appid, secret or app.secret),
            body={
                "extension": extension,
                "name": "Asha Rao",
                "phone_number": "+91 92000 11111",
                "password": PASSWORD,
            },
            client_address="203.0.113.7",
            policy=context.login_policy,
        )
    )


def log_in(
    context: AppContext, user_id: str, password: str, address: str = "203.0.113.7"
) -> users_service.LoggedIn:
    return asyncio.run(
        users_service.log_in(
            context,
            context.hashing,
            credentials=UserCredentials(user_id, password),
            client_address=address,
            policy=context.login_policy,
        )
    )


def test_an_ids_failures_lock_it_out_until_the_window_moves_past_them(
    context: AppContext, app: apps_service.NewApp, time: ManualClock
) -> None:
    user = add_user(context, app)
    for _ in range(3):
        with pytest.raises(NotAuthenticated):
            log_in(context, user.agent_id, "wrong password")
        time.advance(1)
    with pytest.raises(TooManyAttempts) as refused:
        log_in(context, user.agent_id, PASSWORD)
    # The first failure leaves the window 60 s after it happened, 3 s ago.
    assert refused.value.retry_after_seconds == WINDOW_SECONDS - 3
    time.advance(WINDOW_SECONDS - 3 - 0.001)
    with pytest.raises(TooManyAttempts):
        log_in(context, user.agent_id, PASSWORD)
    time.advance(0.001)
    assert log_in(context, user.agent_id, PASSWORD).agent_id == user.agent_id


def test_a_success_clears_the_ids_failures(context: AppContext, app: apps_service.NewApp) -> None:
    user = add_user(context, app)
    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            log_in(context, user.agent_id, "wrong password")
    log_in(context, user.agent_id, PASSWORD)
    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            log_in(context, user.agent_id, "wrong password")
    log_in(context, user.agent_id, PASSWORD)


def test_an_addresses_failures_lock_out_that_address_only(
    context: AppContext, app: apps_service.NewApp
) -> None:
    user = add_user(context, app)
    for n in range(8):
        with pytest.raises(NotAuthenticated):
            log_in(context, f"{n + 1}_{app.appid + 1}", "guess", address="2001:db8:1:2::1")
    # The same /64 is the same client.
    with pytest.raises(TooManyAttempts):
        log_in(context, user.agent_id, PASSWORD, address="2001:db8:1:2::ffff")
    assert log_in(context, user.agent_id, PASSWORD, address="2001:db8:1:3::1")


def test_a_token_stops_working_when_it_expires(
    context: AppContext, app: apps_service.NewApp, time: ManualClock
) -> None:
    user = add_user(context, app)
    token = log_in(context, user.agent_id, PASSWORD).token
    assert asyncio.run(context.authenticate(token)).app_id == app.appid
    time.advance(TOKEN_TTL_SECONDS - 0.001)
    assert asyncio.run(context.authenticate(token)).app_id == app.appid
    time.advance(0.001)
    with pytest.raises(NotAuthenticated):
        asyncio.run(context.authenticate(token))


def test_wrong_app_secrets_lock_out_the_app_until_the_window_moves_past_them(
    context: AppContext, app: apps_service.NewApp, time: ManualClock
) -> None:
    for _ in range(3):
        with pytest.raises(NotAuthenticated):
            add_user(context, app, secret="wrong")
    with pytest.raises(TooManyAttempts):
        add_user(context, app)
    time.advance(WINDOW_SECONDS)
    assert add_user(context, app).extension == 101
    # A right secret is not a failure: the count does not grow with successes.
    for extension in range(102, 106):
        add_user(context, app, extension=extension)


def test_a_taken_extension_is_not_counted_as_a_wrong_secret(
    context: AppContext, app: apps_service.NewApp
) -> None:
    add_user(context, app)
    for _ in range(4):  # more than the 3 failures allowed per app id
        with pytest.raises(ExtensionTaken):
            add_user(context, app)
    assert add_user(context, app, extension=102).extension == 102
