"""`AsyncContactHub`: the asyncio client. It drives the same flows as `ContactHub`."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar, Unpack, cast

import httpx

from contacthub.client import _base
from contacthub.client._base import Call, Flow, RetryPolicy
from contacthub.client._exceptions import APIError, ContactHubError
from contacthub.client._models import AddedUser, AddResult, Contact, NewUser, OnDuplicate

__all__ = ["AsyncContactHub"]

T = TypeVar("T")


class AsyncContactHub:
    """The asyncio twin of `ContactHub`: the same methods and arguments, awaited.

    `iter_contacts` is an async iterator (`async for contact in hub.iter_contacts()`).
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.token = token
        self._retry = RetryPolicy(max_retries=max_retries, backoff=backoff)
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncContactHub:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def login(self, user_id: str, password: str) -> str:
        """Log in as `<extension>_<appid>`; keep the token for later calls, and return it."""
        self.token = await self._run(_base.login_flow(user_id, password))
        return self.token

    async def add_contacts(
        self,
        contacts: Iterable[Mapping[str, Any]],
        *,
        on_duplicate: OnDuplicate = "error",
        validate_only: bool = False,
        idempotency_key: str | None = None,
    ) -> AddResult:
        """Add any number of contacts, 100 per request, each batch with its own Idempotency-Key.

        With `idempotency_key`, batch n is sent with the key `<idempotency_key>.<n>`:
        sending the same contacts again with the same key writes nothing twice.
        """
        return await self._run(
            _base.add_contacts_flow(contacts, on_duplicate, validate_only, idempotency_key)
        )

    async def iter_contacts(
        self, *, search: str | None = None, limit: int = 100
    ) -> AsyncIterator[Contact]:
        """Every contact (or every match of `search`), in creation order, `limit` per request."""
        _base.check_limit(limit)
        page_state: str | None = None
        while True:
            page, page_state = _base.read_page(
                await self._send(_base.page_call(search, limit, page_state))
            )
            for contact in page:
                yield contact
            if page_state is None:
                return

    async def get_contact(self, contact_id: str) -> Contact | None:
        """The contact with this id, or None when the organization has none."""
        return await self._run(_base.get_contact_flow(contact_id))

    async def update_contacts(self, contacts: Iterable[Mapping[str, Any]]) -> int:
        """Change contacts (`contact_id` plus the fields to change), 100 per request; the count."""
        return await self._run(_base.update_contacts_flow(contacts))

    async def delete_contacts(self, contact_ids: str | Sequence[str]) -> int:
        """Delete contacts by id, 100 per request; the number actually deleted."""
        return await self._run(_base.delete_contacts_flow(_base.as_list(contact_ids)))

    async def add_user(self, appid: int, secret: str, **user: Unpack[NewUser]) -> AddedUser:
        """Add a user to an app (admin: authenticated by the app's id and secret, not a token)."""
        return await self._run(_base.add_user_flow(appid, secret, user))

    async def _run(self, flow: Flow[T]) -> T:
        """Drive a flow: send each call it yields, hand back the answer or throw the error in."""
        try:
            call = next(flow)
            while True:
                try:
                    answer = await self._send(call)
                except ContactHubError as error:
                    call = flow.throw(error)
                else:
                    call = flow.send(answer)
        except StopIteration as stop:
            return cast(T, stop.value)

    async def _send(self, call: Call) -> dict[str, Any]:
        headers = call.request_headers(self.token)
        for attempt in itertools.count():  # pragma: no branch (ends by return or raise)
            try:
                response = await self._http.post(call.path, json=call.body, headers=headers)
                return _base.map_response(response, call.index_offset)
            except (httpx.TransportError, APIError) as error:
                # Returns the wait before the next attempt, or raises the error.
                await asyncio.sleep(self._retry.delay(attempt, error))
        raise AssertionError("unreachable")
