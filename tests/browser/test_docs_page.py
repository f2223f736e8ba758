"""/docs works offline: Chromium, other hosts blocked, renders the operations under its policy."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import SKIP_REASON, new_page
from tests.conftest import Server

expect = pytest.importorskip(
    "playwright.sync_api", reason=f"{SKIP_REASON} (playwright is not installed)"
).expect

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Route


def test_the_docs_page_renders_with_every_other_host_blocked(
    browser: Browser, browser_server: Server
) -> None:
    origin = browser_server.url
    elsewhere: list[str] = []
    console: list[str] = []
    errors: list[str] = []

    def only_this_server(route: Route) -> None:
        if route.request.url.startswith(f"{origin}/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    def note(message: ConsoleMessage) -> None:
        if message.type in {"error", "warning"}:  # CSP violations are reported as errors
            console.append(message.text)

    page = new_page(browser)
    page.route("**/*", only_this_server)
    page.on("console", note)
    page.on("pageerror", lambda error: errors.append(str(error)))
    started = time.monotonic()
    page.goto(f"{origin}/docs")
    operation = page.locator(".opblock-summary-path", has_text="/v3/contact/add")
    expect(operation.first).to_be_visible()
    rendered = time.monotonic() - started
    # An operation opens, with its request body's schema: the description was read whole.
    operation.first.click()
    expect(page.get_by_text("ContactAddRequest").first).to_be_visible()
    page.close()
    assert elsewhere == []
    assert console == []
    assert errors == []
    print(f"\nDOCS rendered_ms={rendered * 1000:.0f}")
