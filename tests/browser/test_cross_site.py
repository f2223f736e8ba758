"""Login CSRF in Chromium: a page of another origin plants the login CSRF cookie and posts the
attacker's credentials, to log the visitor in as the attacker (issue 15, finding 5).

Cookies do not keep ports apart, and 127.0.0.1 on another port is the same site, so
SameSite=Strict lets the planted cookie through: only Sec-Fetch-Site tells the server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import SKIP_REASON, new_page
from tests.conftest import Org

expect = pytest.importorskip(
    "playwright.sync_api", reason=f"{SKIP_REASON} (playwright is not installed)"
).expect

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def _attack_page(target: str, org: Org) -> bytes:
    return f"""<!doctype html><title>Win a prize</title>
<form id="f" method="post" action="{target}/login">
<input name="csrf_token" value="planted">
<input name="user_id" value="{org.user_id}"><input name="password" value="{org.password}">
</form>
<script>
document.cookie = "contacthub_login_csrf=planted; path=/";
document.getElementById("f").submit();
</script>""".encode()


@pytest.fixture
def attacker_site(browser_org: Org) -> Iterator[str]:
    """Another origin (127.0.0.1, another port) serving the attack page."""
    page = _attack_page(browser_org.server.url, browser_org)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_login_posted_by_another_origins_page_is_refused(
    browser: Browser, browser_org: Org, attacker_site: str
) -> None:
    page = new_page(browser)
    page.goto(attacker_site)
    expect(page.get_by_role("heading", name="Form expired")).to_be_visible()
    cookies = {cookie["name"] for cookie in page.context.cookies()}
    assert "contacthub_login_csrf" in cookies  # planted, as an attacker can
    assert "contacthub_session" not in cookies
    page.close()
