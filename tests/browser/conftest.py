"""Debian's Chromium, driven by Playwright, against a real `contacthub serve` on SQLite.

Without /usr/bin/chromium or the playwright package these tests skip, saying
so with SKIP_REASON; CI can refuse that reason to make sure they ran.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED_SERVER_ENV, Org, Server, new_org

CHROMIUM = Path("/usr/bin/chromium")
SKIP_REASON = "browser tests need Debian's Chromium at /usr/bin/chromium and playwright"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Generous: a loaded 2-core CI machine, a cold Chromium.
TIMEOUT_MS = 30_000

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - only without the test extra
    sync_playwright = None  # type: ignore[assignment]


def _missing() -> str | None:
    if sync_playwright is None:
        return "playwright is not installed"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing"
    return None


# Module-scoped, not session-scoped: while Playwright's sync API runs, its event
# loop counts as running in this thread, and asyncio.run() in later tests fails.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    missing = _missing()
    if missing:
        pytest.skip(f"{SKIP_REASON} ({missing})")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def browser_server(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'contacthub.db'}"
    running = Server(url, env=SHARED_SERVER_ENV)
    running.start(tmp_path_factory.mktemp("browser-logs") / "server.log")
    yield running
    running.stop()


@pytest.fixture
def browser_org(browser_server: Server) -> Iterator[Org]:
    made = new_org(browser_server)
    yield made
    made.client.close()


def new_page(browser: Browser, **options: Any) -> Page:
    page = browser.new_page(**options)
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    return page
