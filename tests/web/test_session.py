"""Logging in and out of the dashboard, its cookies, and CSRF refusals."""

from __future__ import annotations

import httpx

from tests.conftest import Org, contact
from tests.web.conftest import Dashboard, csrf_of


def _set_cookie(answer: httpx.Response, name: str) -> str:
    headers = [h for h in answer.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, answer.headers
    return headers[0]


def test_pages_need_a_login(org: Org) -> None:
    for path in ("/", "/contacts/new", "/import"):
        answer = org.client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login"


def test_login_keeps_the_token_in_an_httponly_strict_cookie(org: Org) -> None:
    user = Dashboard(org)
    answer = user.login_response()
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    cookie = _set_cookie(answer, "contacthub_session").lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/" in cookie
    # Plain http here: a Secure cookie would never come back.
    assert "secure" not in cookie.replace("samesite", "")
    # The token in the cookie is a real API token.
    token = user.http.cookies["contacthub_session"]
    assert org.post("/v3/contact/get", {"token": token}).status_code == 200
    page = user.http.get("/")
    assert page.status_code == 200
    assert "<h1>Contacts</h1>" in page.text


def test_the_cookie_is_secure_over_https(org: Org) -> None:
    # uvicorn trusts X-Forwarded-Proto from loopback, as from a TLS proxy in front of it.
    user = Dashboard(org)
    user.http.headers["X-Forwarded-Proto"] = "https"
    form = user.http.get("/login")
    assert "secure" in _set_cookie(form, "__Host-contacthub_login_csrf").lower().split("; ")
    # httpx sends Secure cookies to https URLs only, and this one is http: send it by hand.
    user.http.cookies.clear()
    user.http.cookies.set("__Host-contacthub_login_csrf", csrf_of(form.text))
    answer = user.http.post(
        "/login",
        data={"csrf_token": csrf_of(form.text), "user_id": org.user_id, "password": org.password},
    )
    assert answer.status_code == 303, answer.text
    assert "secure" in _set_cookie(answer, "__Host-contacthub_session").lower().split("; ")


def test_a_wrong_password_is_refused_with_the_api_message(org: Org) -> None:
    user = Dashboard(org)
    answer = user.login_response(password="not the password")
    assert answer.status_code == 401
    assert "Invalid user id or password" in answer.text
    assert "contacthub_session" not in user.http.cookies
    assert user.http.get("/").status_code == 303


def test_missing_login_fields_are_named(org: Org) -> None:
    user = Dashboard(org)
    form = user.http.get("/login")
    answer = user.http.post(
        "/login", data={"csrf_token": csrf_of(form.text), "user_id": "", "password": ""}
    )
    assert answer.status_code == 400
    assert 'id="user_id-error"' in answer.text
    assert 'id="password-error"' in answer.text


def test_login_without_its_csrf_token_is_refused(org: Org) -> None:
    user = Dashboard(org)
    user.http.get("/login")
    answer = user.http.post(
        "/login", data={"csrf_token": "forged", "user_id": org.user_id, "password": org.password}
    )
    assert answer.status_code == 403
    assert "contacthub_session" not in user.http.cookies


def test_forms_without_the_right_csrf_token_are_refused_and_change_nothing(
    dashboard: Dashboard,
) -> None:
    assert dashboard.org.add([contact("+919200000001")]).status_code == 200
    stored = dashboard.contacts()[0]
    new = {"phone_no": "+919200000002", "first_name": "New", "last_name": "One"}
    edit = {"phone_no": "+919200000003", "first_name": "Changed", "last_name": "Name"}
    attempts = [
        ("/contacts/new", new),
        (f"/contacts/{stored['contact_id']}/edit", edit),
        (f"/contacts/{stored['contact_id']}/delete", {}),
        ("/logout", {}),
    ]
    for path, data in attempts:
        for token in ({}, {"csrf_token": "0" * 64}, {"csrf_token": ""}):
            answer = dashboard.http.post(path, data={**data, **token})
            assert answer.status_code == 403, (path, token, answer.text)
            assert "Nothing was changed" in answer.text
    assert dashboard.contacts() == [stored]
    # Still logged in: the refused logout did not log out.
    assert dashboard.http.get("/").status_code == 200


def test_a_csrf_token_of_another_session_is_refused(org: Org) -> None:
    first, second = Dashboard(org).login(), Dashboard(org).login()
    assert first.csrf != second.csrf
    first.csrf = second.csrf
    new = {"phone_no": "+919200000002", "first_name": "New", "last_name": "One"}
    assert first.post("/contacts/new", new).status_code == 403
    assert first.contacts() == []


def test_logout_clears_the_cookie(dashboard: Dashboard) -> None:
    answer = dashboard.post("/logout", {})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    cleared = [h for h in answer.headers.get_list("set-cookie") if "contacthub_session" in h]
    assert cleared
    assert "max-age=0" in cleared[0].lower()
    assert dashboard.http.get("/").status_code == 303


def test_pages_forbid_framing_and_foreign_assets(dashboard: Dashboard) -> None:
    page = dashboard.http.get("/")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["cache-control"] == "no-store"
    for asset in ("/static/dashboard.css", "/static/dashboard.js"):
        assert dashboard.http.get(asset).status_code == 200
    assert 'src="http' not in page.text
    assert 'href="http' not in page.text


def test_the_dashboard_is_not_in_the_openapi_description(org: Org) -> None:
    paths = org.client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p == "/" or p.startswith(("/login", "/logout", "/contacts"))]
    assert not [p for p in paths if p.startswith(("/import", "/static"))]
