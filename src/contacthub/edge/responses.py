"""JSON answers, and the one table that turns contacthub errors into them."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse as _StarletteJSONResponse
from starlette.responses import Response

from contacthub.errors import (
    BodyTooLarge,
    Conflict,
    ContactHubError,
    DuplicateContacts,
    InvalidRequest,
    NotAuthenticated,
    ServiceUnavailable,
    TooManyAttempts,
)

INTERNAL_ERROR_MSG = "Something went wrong!"


class JSONResponse(_StarletteJSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


# Most specific first: the first class an error is an instance of decides.
_STATUS_BY_ERROR: tuple[tuple[type[ContactHubError], int], ...] = (
    (BodyTooLarge, 413),
    (InvalidRequest, 400),
    (NotAuthenticated, 404),
    (Conflict, 409),
    (TooManyAttempts, 429),
    (ServiceUnavailable, 503),
)


def error_response(
    status: int, msg: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse({"code": status, "msg": msg, **extra}, status_code=status, headers=headers)


def response_for_error(error: ContactHubError) -> Response:
    status = next((code for kind, code in _STATUS_BY_ERROR if isinstance(error, kind)), 500)
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(error, InvalidRequest):
        extra["errors"] = [problem.as_dict() for problem in error.problems]
    if isinstance(error, DuplicateContacts):
        extra["duplicates"] = error.duplicates
    if isinstance(error, TooManyAttempts):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, ServiceUnavailable):
        headers["Retry-After"] = "1"
    msg = error.msg if status != 500 else INTERNAL_ERROR_MSG
    return error_response(status, msg, headers=headers, **extra)
