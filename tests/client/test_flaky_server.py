"""Retries against a real HTTP server on loopback that fails twice before it answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from contacthub.client import ContactHub
from tests.conftest import Org, contact


class FlakyProxy:
    """Answers the first `failures` requests with 503, then forwards to the real server."""

    def __init__(self, upstream: str, failures: int) -> None:
        self.upstream = upstream
        self.remaining_failures = failures
        self.keys: list[str | None] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                proxy.keys.append(self.headers.get("Idempotency-Key"))
                if proxy.remaining_failures > 0:
                    proxy.remaining_failures -= 1
                    self._answer(503, b'{"code":503,"msg":"try again"}', {})
                    return
                forwarded = httpx.post(
                    proxy.upstream + self.path,
                    content=body,
                    headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
                )
                self._answer(forwarded.status_code, forwarded.content, dict(forwarded.headers))

            def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name in ("idempotent-replayed", "retry-after"):
                    if name in headers:
                        self.send_header(name, headers[name])
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def flaky(org: Org) -> Iterator[FlakyProxy]:
    proxy = FlakyProxy(org.server.url, failures=2)
    proxy.thread.start()
    yield proxy
    proxy.server.shutdown()


def test_two_503s_then_success_are_retried_transparently(org: Org, flaky: FlakyProxy) -> None:
    with ContactHub(flaky.url, org.token, backoff=0.01) as hub:
        result = hub.add_contacts([contact("919320000001"), contact("919320000002")])
    assert result.created == 2
    assert len(flaky.keys) == 3
    assert len(set(flaky.keys)) == 1  # every retry carried the batch's one key
    assert org.get().json()["count"] == 2
