"""What the sync and async clients share: requests, the one response mapping, retries.

Each operation is written once, as a *flow*: a generator that yields the
`Call`s it needs and receives each call's answer (the JSON body of a `2xx`).
`ContactHub` drives flows with blocking I/O and `AsyncContactHub` with
`await`; neither knows what an operation sends or how an answer is read, and
`map_response` is the only place that turns an HTTP response into a result or
an exception.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from contacthub.client._exceptions import (
    APIError,
    AuthError,
    ContactHubError,
    Duplicate,
    DuplicateError,
    FieldError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)
from contacthub.client._models import AddedUser, AddResult, Contact, NewUser, OnDuplicate

T = TypeVar("T")

# The server takes 1 to 100 elements per batch.
BATCH_SIZE = 100
# A Retry-After longer than this (the login throttle says 900 s) is not waited for: the
# RateLimitError is raised at once, and the caller decides.
MAX_RETRY_AFTER = 60.0
USER_AGENT = "contacthub-python-client"


@dataclass(frozen=True)
class Call:
    """One API request: a `POST` of `body` to `path`.

    `index_offset` is where this call's batch begins in the caller's input, so
    that the indexes of a `400` or `409` count over the whole input.
    """

    path: str
    body: dict[str, Any]
    authenticated: bool = True
    index_offset: int = 0
    # Fixed when the call is made, so every retry of this call carries the same key.
    headers: dict[str, str] = field(default_factory=dict)

    def request_headers(self, token: str | None) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, **self.headers}
        if self.authenticated and token:
            headers["Authorization"] = f"Bearer {token}"
        return headers


Flow = Generator[Call, dict[str, Any], T]


def batches(items: Iterable[T]) -> Iterator[tuple[int, list[T]]]:
    """(offset, batch) pairs of at most BATCH_SIZE items, without reading all of `items` first."""
    batch: list[T] = []
    offset = 0
    for item in items:
        batch.append(item)
        if len(batch) == BATCH_SIZE:
            yield offset, batch
            offset += len(batch)
            batch = []
    if batch:
        yield offset, batch


# Responses


def retry_after(response: httpx.Response) -> float | None:
    """The `Retry-After` header in seconds, or None when absent or not a number of seconds."""
    value = response.headers.get("Retry-After")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds >= 0 else None


def map_response(response: httpx.Response, index_offset: int = 0) -> dict[str, Any]:
    """The JSON body of a `2xx` answer, or the `APIError` subclass that the status calls for."""
    try:
        body = response.json()
    except ValueError:
        body = None
    status = response.status_code
    if response.is_success and isinstance(body, dict):
        return body
    if not isinstance(body, dict):
        # Not the server's envelope: a proxy's error page, or a broken answer.
        body = {}
    code = body.get("code")
    code = code if isinstance(code, int) else status
    msg = body.get("msg")
    msg = msg if isinstance(msg, str) else (response.reason_phrase or "unexpected answer")
    if response.is_success:
        raise APIError(response, code, "the answer is not a JSON object")
    if status in (400, 413):
        errors = [_field_error(entry, index_offset) for entry in body.get("errors") or []]
        raise ValidationError(response, code, msg, errors)
    if status == 404 and msg != "Not found":
        raise AuthError(response, code, msg)
    if status == 409:
        duplicates = [_duplicate(entry, index_offset) for entry in body.get("duplicates") or []]
        raise DuplicateError(response, code, msg, duplicates)
    if status == 429:
        raise RateLimitError(response, code, msg, retry_after(response))
    if status >= 500:
        raise ServerError(response, code, msg)
    raise APIError(response, code, msg)


def _shift(index: Any, offset: int) -> int | None:
    return index + offset if isinstance(index, int) else None


def _field_error(entry: Mapping[str, Any], offset: int) -> FieldError:
    index = _shift(entry.get("index"), offset)
    return FieldError(str(entry.get("field")), str(entry.get("msg")), index)


def _duplicate(entry: Mapping[str, Any], offset: int) -> Duplicate:
    return Duplicate(
        index=entry["index"] + offset,
        phone_no=entry["phone_no"],
        contact_id=entry.get("contact_id"),
        duplicate_of_index=_shift(entry.get("duplicate_of_index"), offset),
    )


# Retries


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, for failures that a retry can cure.

    Only a request that got no answer (`httpx.TransportError`), a `429` and a
    `5xx` are retried; `400`, `404` and `409` would get the same answer again.
    Retrying a write is safe: every batch of `add_contacts` carries its own
    `Idempotency-Key`, and update and delete set the same state twice.
    """

    max_retries: int = 3
    backoff: float = 0.5

    def delay(self, attempt: int, error: Exception) -> float:
        """Seconds to wait before the retry after failed `attempt` (from 0), or raise the error."""
        if attempt < self.max_retries:
            if isinstance(error, httpx.TransportError) and not isinstance(
                error, httpx.UnsupportedProtocol
            ):
                return self._backoff(attempt)
            if isinstance(error, RateLimitError | ServerError):
                wait = retry_after(error.response)
                if wait is None:
                    return self._backoff(attempt)
                if wait <= MAX_RETRY_AFTER:
                    return wait
        if isinstance(error, httpx.TransportError):
            raise as_transport_error(error) from error
        raise error

    def _backoff(self, attempt: int) -> float:
        # "Equal jitter": at least half the exponential step, so that clients that failed
        # together do not all come back at the same instant.
        step = self.backoff * 2.0**attempt
        return step / 2 + random.uniform(0, step / 2)


def as_transport_error(error: httpx.TransportError) -> TransportError:
    try:
        request: httpx.Request | None = error.request
    except RuntimeError:  # httpx raises this when the request was never set
        request = None
    return TransportError(str(error) or type(error).__name__, request=request)


# Flows: one per operation, shared by both clients.


def login_flow(user_id: str, password: str) -> Flow[str]:
    body = {"id": user_id, "password": password}
    answer = yield Call("/v2/user/login", body, authenticated=False)
    return str(answer["token"])


def add_contacts_flow(
    contacts: Iterable[Mapping[str, Any]],
    on_duplicate: OnDuplicate,
    validate_only: bool,
    idempotency_key: str | None = None,
) -> Flow[AddResult]:
    result = AddResult()
    for offset, batch in batches(contacts):
        body: dict[str, Any] = {"contacts": [dict(item) for item in batch]}
        if on_duplicate != "error":
            body["on_duplicate"] = on_duplicate
        if validate_only:
            body["validate_only"] = True
        batch_key = f"{idempotency_key}.{offset // BATCH_SIZE}" if idempotency_key else uuid.uuid4()
        key = {"Idempotency-Key": str(batch_key)}
        try:
            answer = yield Call("/v3/contact/add", body, index_offset=offset, headers=key)
        except ContactHubError as error:
            error.completed = result
            raise
        result = result.extended(answer, offset)
    return result


def get_contact_flow(contact_id: str) -> Flow[Contact | None]:
    answer = yield Call("/v3/contact/get", {"contact_id": contact_id})
    found = answer.get("contacts") or []
    return Contact.from_json(found[0]) if found else None


def page_call(search: str | None, limit: int, page_state: str | None) -> Call:
    body: dict[str, Any] = {"limit": limit}
    if search is not None:
        body["search"] = search
    if page_state is not None:
        body["page_state"] = page_state
    return Call("/v3/contact/get", body)


def read_page(answer: Mapping[str, Any]) -> tuple[list[Contact], str | None]:
    """A page's contacts, and the cursor of the next page (None after the last)."""
    contacts = [Contact.from_json(entry) for entry in answer.get("contacts") or []]
    return contacts, answer.get("page_state")


def update_contacts_flow(contacts: Iterable[Mapping[str, Any]]) -> Flow[int]:
    total = 0
    for offset, batch in batches(contacts):
        body = {"contacts": [dict(item) for item in batch]}
        answer = yield Call("/v3/contact/update", body, index_offset=offset)
        total += int(answer.get("updated", len(batch)))
    return total


def delete_contacts_flow(contact_ids: Iterable[str]) -> Flow[int]:
    total = 0
    for offset, batch in batches(contact_ids):
        answer = yield Call("/v3/contact/delete", {"contact_ids": batch}, index_offset=offset)
        total += int(answer["deleted"])
    return total


def add_user_flow(appid: int, secret: str, user: NewUser) -> Flow[AddedUser]:
    body = {"appid": appid, "secret": secret, **user}
    answer = yield Call("/v2/user/add", body, authenticated=False)
    return AddedUser.from_json(answer["agent"])


def check_limit(limit: int) -> None:
    if not 1 <= limit <= BATCH_SIZE:
        raise ValueError(f"limit must be between 1 and {BATCH_SIZE}, not {limit}")


def as_list(ids: str | Sequence[str]) -> Sequence[str]:
    # A lone string would otherwise be split into characters.
    return [ids] if isinstance(ids, str) else ids
