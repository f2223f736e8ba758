"""Cross-site POSTs are refused on the browser's own word (Sec-Fetch-Site, Origin), and the cookies
take the `__Host-` prefix over https (issue 15, finding 5).
"""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Org, contact
from tests.web.conftest import Dashboard, csrf_of

CROSS_SITE = [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is another party
    {"Origin": "http://evil.example"},
    {"Origin": "null"},  # a sandboxed frame, or a redirect from another site
    # The browser's Sec-Fetch-Site is believed over an Origin that looks right.
    {"Sec-Fetch-Site": "cross-site", "Origin": "SELF"},
]


def _with_origin(headers: dict[str, str], url: str) -> dict[str, str]:
    return {name: url if value == "SELF" else value for name, value in headers.items()}


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_cross_site_posts_are_refused_and_change_nothing(
    dashboard: Dashboard, headers: dict[str, str]
) -> None:
    headers = _with_origin(headers, dashboard.org.server.url)
    dashboard.org.add([contact("+919200000001")])
    [stored] = dashboard.contacts()
    path = f"/contacts/{stored['contact_id']}"
    new = {"phone_no": "+919200000002", "first_name": "New", "last_name": "One"}
    attempts = [
        ("/contacts/new", new, None),
        (f"{path}/edit", {**new, "first_name": "Changed"}, None),
        (f"{path}/delete", {}, None),
        ("/logout", {}, None),
        ("/import", {}, {"file": ("a.csv", b"Phone,First Name,Surname\n+919200000003,A,B\n")}),
    ]
    for target, data, files in attempts:
        answer = dashboard.post(target, data, files=files, headers=headers)
        assert answer.status_code == 403, (target, answer.text)
        assert "Nothing was changed" in answer.text
    assert dashboard.contacts() == [stored]
    assert dashboard.http.get("/").status_code == 200


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_a_cross_site_login_with_a_planted_csrf_cookie_is_refused(
    org: Org, headers: dict[str, str]
) -> None:
    # Login CSRF: the attacker's page posts its own credentials with a token it planted.
    planted = "planted-token"
    with httpx.Client(base_url=org.server.url, timeout=30) as browser:
        browser.cookies.set("contacthub_login_csrf", planted)
        answer = browser.post(
            "/login",
            data={"csrf_token": planted, "user_id": org.user_id, "password": org.password},
            headers=_with_origin(headers, org.server.url),
        )
        assert answer.status_code == 403
        assert "contacthub_session" not in browser.cookies


def test_same_origin_and_headerless_posts_are_accepted(org: Org) -> None:
    user = Dashboard(org)
    form = user.http.get("/login")
    same = {"Sec-Fetch-Site": "same-origin", "Origin": org.server.url}
    answer = user.http.post(
        "/login",
        data={"csrf_token": csrf_of(form.text), "user_id": org.user_id, "password": org.password},
        headers=same,
    )
    assert answer.status_code == 303, answer.text
    user.csrf = csrf_of(user.http.get("/").text)
    new = {"phone_no": "+919200000002", "first_name": "New", "last_name": "One"}
    assert user.post("/contacts/new", new, headers=same).status_code == 303
    # Only an Origin, as older browsers send; or none, as curl and scripts send.
    assert user.post("/contacts/new", {**new, "phone_no": "+919200000003"},
                     headers={"Origin": org.server.url}).status_code == 303  # fmt: skip
    assert user.post("/contacts/new", {**new, "phone_no": "+919200000004"}).status_code == 303
    # A user typing the address (Sec-Fetch-Site: none) is no other site.
    assert user.post("/logout", {}, headers={"Sec-Fetch-Site": "none"}).status_code == 303
    assert len(user.contacts()) == 3


def _set_cookie(answer: httpx.Response, name: str) -> str:
    found = [h for h in answer.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(found) == 1, answer.headers
    return found[0]


def test_over_https_the_cookies_take_the_host_prefix(org: Org) -> None:
    user = Dashboard(org)
    user.http.headers["X-Forwarded-Proto"] = "https"
    form = user.http.get("/login")
    login_csrf = _set_cookie(form, "__Host-contacthub_login_csrf").lower().split("; ")
    assert {"secure", "path=/"} <= set(login_csrf)
    assert not [part for part in login_csrf if part.startswith("domain=")]
    assert not [h for h in form.headers.get_list("set-cookie") if h.startswith("contacthub_")]

    # A plain-named cookie (one a page over http, or a sibling domain, could plant) is ignored.
    token = csrf_of(form.text)
    user.http.cookies.clear()
    user.http.cookies.set("contacthub_login_csrf", token)
    data = {"csrf_token": token, "user_id": org.user_id, "password": org.password}
    assert user.http.post("/login", data=data).status_code == 403

    # httpx sends Secure cookies to https URLs only, and this one is http: send it by hand.
    user.http.cookies.clear()
    user.http.cookies.set("__Host-contacthub_login_csrf", token)
    answer = user.http.post("/login", data=data)
    assert answer.status_code == 303, answer.text
    session = _set_cookie(answer, "__Host-contacthub_session").lower().split("; ")
    assert {"secure", "path=/", "httponly", "samesite=strict"} <= set(session)
    cleared = _set_cookie(answer, "__Host-contacthub_login_csrf").lower()
    assert "max-age=0" in cleared

    token_value = answer.cookies["__Host-contacthub_session"]
    user.http.cookies.clear()
    user.http.cookies.set("__Host-contacthub_session", token_value)
    assert user.http.get("/").status_code == 200
    # The same token under the plain name is not read over https.
    user.http.cookies.clear()
    user.http.cookies.set("contacthub_session", token_value)
    assert user.http.get("/").status_code == 303
