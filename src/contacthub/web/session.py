"""The dashboard's session: the login token in a cookie, and the CSRF token derived from it.

The token lives in an HttpOnly, SameSite=Strict cookie, so page scripts
cannot read it and other sites' pages cannot send it. Every form also carries
a CSRF token, HMAC(login token, purpose): only a page served to the holder of
the cookie can know it, and it needs no server-side state. Before login there
is no token, so the login form uses a random value kept in a cookie of its
own and repeated in the form (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "contacthub_session"
LOGIN_CSRF_COOKIE = "contacthub_login_csrf"
CSRF_FIELD = "csrf_token"
_CSRF_PURPOSE = b"contacthub dashboard csrf v1"


def csrf_token_for(login_token: str) -> str:
    return hmac.new(login_token.encode(), _CSRF_PURPOSE, hashlib.sha256).hexdigest()


def csrf_matches(expected: str, given: object) -> bool:
    return isinstance(given, str) and hmac.compare_digest(expected.encode(), given.encode())


def new_login_csrf() -> str:
    return secrets.token_urlsafe(32)


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        # Secure whenever the page was reached over https (directly or via a proxy
        # that uvicorn trusts), so the token never travels in clear after that.
        secure=request.url.scheme == "https",
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(
        name, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
