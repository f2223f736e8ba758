"""Reading a request body: step 1 of the contract's order of checks."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from contacthub.errors import BodyTooLarge, InvalidRequest, Problem


async def read_json_object(request: Request, limit: int) -> dict[str, Any]:
    """The body as a JSON object, or InvalidRequest / BodyTooLarge.

    The size is checked against Content-Length before reading, and again
    while streaming, so a lying or absent header cannot make us buffer more.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise InvalidRequest([Problem("body", "is empty; send a JSON object")])
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest([Problem("body", f"is not valid UTF-8 JSON: {exc}")]) from None
    if not isinstance(body, dict):
        raise InvalidRequest([Problem("body", "must be a JSON object")])
    return body
