"""The dashboard's session: the login token in a cookie, and the CSRF token derived from it.

The token lives in an HttpOnly, SameSite=Strict cookie, so page scripts
cannot read it and other sites' pages cannot send it. Every form also carries
a CSRF token, HMAC(login token, purpose): only a page served to the holder of
the cookie can know it, and it needs no server-side state. Before login there
is no token, so the login form uses a random value kept in a cookie of its
own and repeated in the form (double submit).

Over https both cookies are named with the `__Host-` prefix: browsers accept
such a cookie only when it is Secure, for path `/`, without a Domain, and set
by this very host over https, so neither a page over plain http nor a sibling
subdomain can plant one (as they could plant a login CSRF cookie to match a
token of their own). Browsers refuse `__Host-` cookies over http, so there the
plain names are used; each request reads the name its scheme calls for.
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


def _over_https(request: Request) -> bool:
    # https directly, or via a proxy that uvicorn trusts (X-Forwarded-Proto).
    return request.url.scheme == "https"


def cookie_name(request: Request, name: str) -> str:
    """The name the cookie `name` has on this request: `__Host-` prefixed over https."""
    return f"__Host-{name}" if _over_https(request) else name


def read_cookie(request: Request, name: str) -> str:
    """The value of the cookie `name` under the name this request's scheme calls for, or ""."""
    return request.cookies.get(cookie_name(request, name), "")


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        cookie_name(request, name),
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        # Secure whenever the page was reached over https, so the token never
        # travels in clear after that (and `__Host-` requires it).
        secure=_over_https(request),
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(
        cookie_name(request, name),
        path="/",
        httponly=True,
        samesite="strict",
        secure=_over_https(request),
    )
