"""Idempotency-Key: a retried write gets the first answer again instead of running twice.

What is replayed is the HTTP answer itself (status and body), so this lives
at the HTTP edge; the key's row is written in the same transaction as the
operation, so the answer and the data it describes commit or vanish together.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict

import orjson
from sqlalchemy import Connection

from contacthub.clock import now_ms
from contacthub.domain.users import Principal
from contacthub.edge.responses import JSONResponse, response_for_error
from contacthub.errors import Conflict, InvalidRequest, Problem, ServiceUnavailable
from contacthub.storage import idempotency

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEEP_MS = 24 * 3600 * 1000
_MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False

    def response(self) -> JSONResponse:
        headers = {REPLAYED_HEADER: "true"} if self.replayed else None
        return JSONResponse(self.body, status_code=self.status, headers=headers)


class _KeyIds(TypedDict):
    user_id: int
    path: str
    key: str


def parse_key(value: str | None) -> str | None:
    """The header's key: 1 to 255 printable ASCII characters, or None when absent."""
    if value is None:
        return None
    # Spaces around a header value are not part of it (RFC 9110, 5.5).
    value = value.strip(" \t")
    if not 1 <= len(value) <= _MAX_KEY_LENGTH or not all(" " <= ch <= "~" for ch in value):
        raise InvalidRequest(
            [Problem(HEADER, f"must be 1 to {_MAX_KEY_LENGTH} printable ASCII characters")]
        )
    return value


def request_digest(body: dict[str, Any]) -> str:
    """Equal for requests whose bodies are equal JSON once parsed, the token left out."""
    canonical = orjson.dumps(
        {name: value for name, value in body.items() if name != "token"},
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(canonical).hexdigest()


def run_once(
    connection: Connection,
    *,
    principal: Principal,
    path: str,
    key: str,
    body: dict[str, Any],
    apply: Callable[[Connection], dict[str, Any]],
) -> Answer:
    """Run `apply` unless this user already sent this key to this path; keep its answer.

    200, 400 and 409 answers are kept. Anything else raised here rolls back
    the whole transaction, key included, so a retry runs again.
    """
    digest = request_digest(body)
    now = now_ms()
    idempotency.prune(connection, before_ms=now - KEEP_MS)
    ids: _KeyIds = {"user_id": principal.user_id, "path": path, "key": key}
    if not idempotency.claim(connection, **ids, request_digest=digest, now_ms=now):
        stored = idempotency.find(connection, **ids)
        if stored is not None:
            if stored.request_digest != digest:
                raise InvalidRequest(
                    [Problem(HEADER, "was already used with a different request body")]
                )
            return Answer(stored.status_code, orjson.loads(stored.response_body), replayed=True)
        # The holder of the key rolled back between our two statements; a
        # third party may have taken it since, and then the client retries.
        if not idempotency.claim(connection, **ids, request_digest=digest, now_ms=now):
            raise ServiceUnavailable()

    try:
        with connection.begin_nested():
            answer = Answer(200, apply(connection))
    except (InvalidRequest, Conflict) as error:
        response = response_for_error(error)
        answer = Answer(response.status_code, orjson.loads(bytes(response.body)))
    idempotency.record(
        connection,
        **ids,
        status_code=answer.status,
        response_body=orjson.dumps(answer.body).decode(),
    )
    return answer
