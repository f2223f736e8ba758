"""/docs is served whole by contacthub, under a Content-Security-Policy of its own origin only.

FastAPI's page loaded Swagger UI from a CDN with no integrity check and
started it with an inline script: whoever served or changed those files ran
script on this origin. Here every file of the page is contacthub's, no script
is inline, and the policy forbids any other source.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

from tests.conftest import Server


class References(HTMLParser):
    """Every URL a page refers to, and the text of its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value or "" for name, value in attrs if name in {"src", "href"}]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def policy(response: httpx.Response) -> dict[str, list[str]]:
    header = response.headers["content-security-policy"]
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


def test_the_docs_page_refers_to_no_other_host_and_runs_no_inline_script(server: Server) -> None:
    page = httpx.get(f"{server.url}/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert not re.search(r"https?:|//", page.text.replace("<!doctype html>", ""))
    found = References()
    found.feed(page.text)
    assert found.inline_scripts == []
    assert len(found.urls) >= 3
    for url in found.urls:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        asset = httpx.get(f"{server.url}{url}")
        assert asset.status_code == 200, url
        assert asset.headers["x-content-type-options"] == "nosniff"


def test_the_docs_page_allows_its_own_origin_only(server: Server) -> None:
    page = httpx.get(f"{server.url}/docs")
    directives = policy(page)
    assert directives["default-src"] == ["'none'"]
    for name in ("script-src", "style-src", "connect-src"):
        assert directives[name] == ["'self'"], name
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize(
    ("path", "kind", "marker"),
    [
        ("/docs/swagger-ui-bundle.js", "text/javascript", b"SwaggerUIBundle"),
        ("/docs/swagger-ui.css", "text/css", b".swagger-ui"),
        ("/docs/swagger-ui-init.js", "text/javascript", b'"/openapi.json"'),
        ("/docs/favicon.png", "image/png", b"\x89PNG"),
    ],
)
def test_the_docs_assets_are_served_by_contacthub(
    server: Server, path: str, kind: str, marker: bytes
) -> None:
    asset = httpx.get(f"{server.url}{path}")
    assert asset.status_code == 200
    assert asset.headers["content-type"].split(";")[0] == kind
    assert marker in asset.content


@pytest.mark.parametrize("path", ["/redoc", "/docs/oauth2-redirect", "/docs/index.html"])
def test_pages_that_would_load_from_elsewhere_are_gone(server: Server, path: str) -> None:
    assert httpx.get(f"{server.url}{path}").status_code == 404
