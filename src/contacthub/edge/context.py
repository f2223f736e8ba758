"""What every route needs: the settings, the database, and the one place transactions are opened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from contacthub.clock import now_ms
from contacthub.config import Settings
from contacthub.domain.paging import PageStateCodec
from contacthub.domain.users import Principal
from contacthub.services import users as users_service
from contacthub.services.hashing import PasswordHashing
from contacthub.services.policy import LoginPolicy
from contacthub.services.principals import PrincipalCache
from contacthub.storage import instance
from contacthub.storage.database import Database

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(slots=True)
class AppContext:
    settings: Settings
    database: Database
    _page_state_codec: PageStateCodec | None = None
    _principals: PrincipalCache = field(init=False)
    hashing: PasswordHashing = field(init=False)

    def __post_init__(self) -> None:
        self._principals = PrincipalCache(recheck_ms=self.settings.token_recheck_seconds * 1000)
        self.hashing = PasswordHashing(self.settings.password_hash_concurrency)

    @property
    def login_policy(self) -> LoginPolicy:
        return LoginPolicy(
            token_ttl_ms=self.settings.token_ttl_seconds * 1000,
            window_ms=self.settings.login_window_seconds * 1000,
            max_failures_per_user=self.settings.login_max_failures_per_id,
            max_failures_per_address=self.settings.login_max_failures_per_address,
        )

    async def reading(
        self,
        operation: Callable[Concatenate[Connection, P], R],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """Run `operation(connection, ...)` in one read-only transaction, off the event loop."""
        return await run_in_threadpool(
            self._read, lambda connection: operation(connection, *args, **kwargs)
        )

    async def writing(
        self,
        operation: Callable[Concatenate[Connection, P], R],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """Run `operation(connection, ...)` in one writing transaction, off the event loop.

        It commits if the operation returns and rolls back if it raises, so a
        refused batch leaves nothing behind.
        """
        return await self.database.write_async(
            lambda connection: operation(connection, *args, **kwargs)
        )

    def _read(self, work: Callable[[Connection], R]) -> R:
        with self.database.transaction(write=False) as connection:
            return work(connection)

    async def page_state_codec(self) -> PageStateCodec:
        """The cursor key, read from the database on first use (the server may start before it)."""
        if self._page_state_codec is None:
            key = await self.reading(instance.secret, instance.PAGE_STATE_KEY)
            self._page_state_codec = PageStateCodec(key)
        return self._page_state_codec

    async def authenticate(self, token: str) -> Principal:
        now = now_ms()
        principal = self._principals.get(token, now)
        if principal is None:
            principal = await self.reading(users_service.authenticate, token)
            self._principals.put(token, principal, now)
        return principal

    async def log_out(self, token: str) -> None:
        """Revoke the token: at once in this process, within token_recheck_seconds in others."""
        await self.writing(users_service.log_out, token)
        self._principals.forget(token)


def context_of(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context
