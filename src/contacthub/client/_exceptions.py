"""The client's exceptions, in one hierarchy.

```
ContactHubError                 anything this client raises
├── TransportError              no answer: connection refused or dropped, timeout (after retries)
└── APIError                    the server answered with an error status (.response, .status_code,
    │                           .code, .msg)
    ├── ValidationError         400 (and 413): the request is invalid; .errors lists every problem
    ├── AuthError               404: unknown, wrong or expired token, id/password or appid/secret
    ├── DuplicateError          409: a phone number (or an extension) is already taken;
    │                           .duplicates names each offending element
    ├── RateLimitError          429: too many failed logins; .retry_after in seconds
    └── ServerError             5xx: the server failed or its database is unavailable
```

Other statuses (`405`; the `404` "Not found" of an unknown path, which
usually means a wrong `base_url`) raise `APIError` itself. Every `APIError`
carries the `httpx.Response` it came from.

Indexes (`FieldError.index`, `Duplicate.index`) count from 0 over the whole
sequence given to `add_contacts`, `update_contacts` or `delete_contacts`, not
over the batch of 100 that the server saw. Those methods send batches in
order and stop at the first batch that fails; the batches before it were
written. For `add_contacts`, the exception's `completed` holds what they
wrote (an `AddResult`, empty when the first batch failed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from contacthub.client._models import AddResult

__all__ = [
    "APIError",
    "AuthError",
    "ContactHubError",
    "Duplicate",
    "DuplicateError",
    "FieldError",
    "RateLimitError",
    "ServerError",
    "TransportError",
    "ValidationError",
]


@dataclass(frozen=True)
class FieldError:
    """One problem of a `400`: the `field`, why, and the element's `index` when in a batch."""

    field: str
    msg: str
    index: int | None = None


@dataclass(frozen=True)
class Duplicate:
    """One element of a `409`: its number, and who already holds it.

    `contact_id` names the stored contact with that number; otherwise
    `duplicate_of_index` names the earlier element of the same call.
    """

    index: int
    phone_no: str
    contact_id: str | None = None
    duplicate_of_index: int | None = None


class ContactHubError(Exception):
    """Base class of every exception this client raises."""

    # Set by add_contacts when earlier batches were written before this one failed: what
    # they wrote, so that nothing is lost or sent twice when the caller carries on.
    completed: AddResult | None = None


class TransportError(ContactHubError):
    """The request got no answer, even after the retries. `__cause__` is httpx's exception."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.request = request


class APIError(ContactHubError):
    """The server answered with an error status."""

    def __init__(self, response: httpx.Response, code: int, msg: str) -> None:
        super().__init__(f"{code} {msg}")
        self.response = response
        self.status_code = response.status_code
        self.code = code
        self.msg = msg


class ValidationError(APIError):
    """`400` (or `413`): `errors` lists every problem the server found."""

    def __init__(
        self, response: httpx.Response, code: int, msg: str, errors: list[FieldError]
    ) -> None:
        super().__init__(response, code, msg)
        self.errors = errors

    def __str__(self) -> str:
        details = "; ".join(
            (f"[{error.index}] " if error.index is not None else "") + f"{error.field}: {error.msg}"
            for error in self.errors
        )
        return f"{self.code} {self.msg}" + (f": {details}" if details else "")


class AuthError(APIError):
    """`404` for credentials: a token, id/password or appid/secret the server does not accept."""


class DuplicateError(APIError):
    """`409`: `duplicates` names each element whose number is taken (empty for an extension)."""

    def __init__(
        self, response: httpx.Response, code: int, msg: str, duplicates: list[Duplicate]
    ) -> None:
        super().__init__(response, code, msg)
        self.duplicates = duplicates


class RateLimitError(APIError):
    """`429`: too many failed logins. `retry_after` is the server's `Retry-After`, in seconds."""

    def __init__(
        self, response: httpx.Response, code: int, msg: str, retry_after: float | None
    ) -> None:
        super().__init__(response, code, msg)
        self.retry_after = retry_after


class ServerError(APIError):
    """`5xx`: the server failed, or its database is unavailable (`503`); a retry may succeed."""
