"""Every response gets an X-Request-ID, no exception leaves the server but as the envelope, and
every answer is observed (metrics, access log)."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contacthub.domain.addresses import Network
from contacthub.edge.access_log import escaped
from contacthub.edge.proxies import ProxyHeadersMiddleware
from contacthub.edge.responses import INTERNAL_ERROR_MSG, error_response

logger = logging.getLogger("contacthub.api")

# A caller's own request id is kept (it ties their logs to ours) only when it
# cannot smuggle anything into a log line or a header.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"x-request-id", request_id.encode("ascii"))
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception(
                "unhandled error request_id=%s method=%s path=%s",
                request_id,
                escaped(str(scope.get("method"))),  # the client's words: one line, one field each
                escaped(str(scope.get("path"))),
            )
            if response_started:
                raise
            response = error_response(500, INTERNAL_ERROR_MSG)
            await response(scope, receive, send_with_id)


def _request_id(scope: Scope) -> str:
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _SAFE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return os.urandom(16).hex()  # a third of the cost of uuid4().hex, the same 32 hex digits


# Told of every answered HTTP request: its scope, final status and seconds taken.
Observer = Callable[[Scope, int, float], None]


class ObservingMiddleware:
    """Times every HTTP request and notes the status it was answered with, for its observers.

    Registered after RequestContextMiddleware, so outside it: it sees the 500
    which that middleware makes of an exception, and the request id it gives
    the request. An exception that still gets here (one raised after the
    response started) counts as 500 too.
    """

    def __init__(self, app: ASGIApp, observers: Sequence[Observer]) -> None:
        self.app = app
        self.observers = tuple(observers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        except Exception:
            status = 500
            raise
        finally:
            seconds = time.perf_counter() - started
            for observe in self.observers:
                observe(scope, status, seconds)


def observed(
    app: ASGIApp, observers: Sequence[Observer], trusted_proxies: tuple[Network, ...] = ()
) -> ASGIApp:
    """What every answer passes through: the client's address settled first (the observers
    log it), then its id and the 500 envelope, inside the observers."""
    return ProxyHeadersMiddleware(
        ObservingMiddleware(RequestContextMiddleware(app), observers), trusted_proxies
    )
