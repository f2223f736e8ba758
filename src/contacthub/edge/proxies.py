"""The client's address and scheme as the request's scope holds them: the TCP peer's, or,
when the peer is a proxy the operator trusts (CONTACTHUB_TRUSTED_PROXIES), the ones it
forwards in X-Forwarded-For and X-Forwarded-Proto.

uvicorn's own proxy-header handling is switched off (`contacthub serve`): it trusted
127.0.0.1 by default and took any text as an address.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from contacthub.domain.addresses import Network, forwarded_client, parse_address


class ProxyHeadersMiddleware:
    def __init__(self, app: ASGIApp, trusted: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.trusted:
            self._apply_forwarded(scope)
        await self.app(scope, receive, send)

    def _apply_forwarded(self, scope: Scope) -> None:
        peer = scope.get("client")
        if not peer:
            return
        forwarded_for: list[str] = []  # several header lines are one list (RFC 9110 5.3)
        forwarded_proto = None
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-for":
                forwarded_for.append(value.decode("latin-1"))
            elif name == b"x-forwarded-proto":
                forwarded_proto = value.decode("latin-1").strip().lower()
        if not forwarded_for and forwarded_proto is None:
            return
        client = forwarded_client(peer[0], ",".join(forwarded_for), self.trusted)
        if client is None:
            return  # the peer is not a trusted proxy: its headers are the client's own words
        scope["client"] = (str(client), 0)
        if forwarded_proto in ("http", "https"):
            scope["scheme"] = forwarded_proto


def client_address(scope: Scope) -> str:
    """The client's IP address, checked, or "unknown" (no peer, or a unix socket's path)."""
    client = scope.get("client")
    address = parse_address(client[0]) if client else None
    return "unknown" if address is None else str(address)
