"""The OpenAPI description: FastAPI's, plus what our routes do by hand.

Routes read their bodies themselves (the domain rules check them, in the
contract's order), so FastAPI cannot see what they accept or answer. This
module documents it for them: the request body of each route, every status
each route can answer with its body (`api_responses`), the headers on every
answer, and the routes served outside the document (`/openapi.json`,
`/docs`). `tests/e2e/test_schema_fuzz.py` holds a running server to every
word of it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from contacthub.api import docs_page
from contacthub.api.schemas import (
    BodyTooLargeResponse,
    InternalErrorResponse,
    InvalidRequestResponse,
    NotAuthenticatedResponse,
    ServiceUnavailableResponse,
    TooManyAttemptsResponse,
)

_REF = "#/components/schemas/{model}"
_request_models: list[type[BaseModel]] = []

BEARER_SCHEME = "bearerToken"
Responses = dict[int | str, dict[str, Any]]

_CONVENTIONS = """

Every answer of `/v2/...` and `/v3/...`, and every error answer, carries
`code`, equal to the HTTP status; every error answer carries `msg`, and a
`400` lists every problem in `errors`. The checks run in a fixed
order and the first failure answers: the body (`413`, `400`), the
credentials' presence and type (`400`), throttling (`429`), the credentials
themselves (`404`), the other parameters (`400`), conflicts with stored data
(`409`). Any of them may instead answer `503` when the database cannot be
reached. Beyond the operations below: an unknown path gets `404`
`{"code":404,"msg":"Not found"}`, and another method on a known path `405`
with an `Allow` header, both with the same envelope and `X-Request-ID`.
Where an `integer` is expected, write it without a fraction or exponent: JSON
Schema counts `1.0` as an integer, this server refuses it (`400`). Text
fields are trimmed before their lengths are checked.
"""

# --- headers ------------------------------------------------------------------

REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"

_REQUEST_ID_PARAMETER: dict[str, Any] = {
    "name": "X-Request-ID",
    "in": "header",
    "required": False,
    "description": "Your own id for this request, echoed back when it is 1 to 128 characters "
    "of `A-Z a-z 0-9 . _ : -`; any other value is replaced by a generated one",
    "schema": {"type": "string"},
}
_REQUEST_ID_HEADER: dict[str, Any] = {
    "description": "The id of this request, which the server's log lines repeat: yours if it "
    "was safe, else 32 generated hex digits",
    "required": True,
    "schema": {"type": "string", "pattern": REQUEST_ID_PATTERN},
}
_RETRY_AFTER_HEADER: dict[str, Any] = {
    "description": "Seconds to wait before trying again",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}
_REPLAYED_HEADER: dict[str, Any] = {
    "description": "Beyond TeleCMI: present when this is the kept answer to an earlier request "
    "with the same `Idempotency-Key` and body, replayed; nothing was written this time",
    "required": False,
    "schema": {"type": "string", "const": "true"},
}
_IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Beyond TeleCMI: makes a retry safe. A retry with the same key and the same "
    "body (the token left out), from the same user, within 24 hours, gets the first `200`, "
    "`400` or `409` answer again, with `Idempotent-Replayed: true`, and writes nothing. The "
    "same key with another body gets `400`",
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": r"^[ -~]*[!-~][ -~]*$",
    },
}

# --- bodies -------------------------------------------------------------------


def request_body(
    model: type[BaseModel], *, bearer: bool = False, idempotency_key: bool = False
) -> dict[str, Any]:
    """`openapi_extra` for a route that reads a JSON body of this shape.

    `bearer`: the token may come as `Authorization: Bearer`, instead of in the
    body. `idempotency_key`: the route reads the `Idempotency-Key` header.
    """
    _request_models.append(model)
    extra: dict[str, Any] = {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}
            },
        }
    }
    if bearer:
        # Either the Bearer header, or nothing (the token is in the body).
        extra["security"] = [{BEARER_SCHEME: []}, {}]
    if idempotency_key:
        extra["parameters"] = [_IDEMPOTENCY_KEY_PARAMETER]
    return extra


def _answer(
    model: type[BaseModel], description: str, headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    documented: dict[str, Any] = {"model": model, "description": description}
    if headers:
        documented["headers"] = dict(headers)
    return documented


INTERNAL_ERROR: Responses = {
    500: _answer(
        InternalErrorResponse,
        "An unexpected error. The answer shows nothing of the internals; the server's log "
        "holds the cause under this answer's `X-Request-ID`",
    )
}


def api_responses(
    success: type[BaseModel],
    *,
    success_description: str,
    not_found: type[BaseModel] = NotAuthenticatedResponse,
    not_found_description: str = "Unknown, wrong or expired token",
    conflict: type[BaseModel] | None = None,
    conflict_description: str = "",
    throttled: bool = False,
    replayable: bool = False,
) -> Responses:
    """Every status an API route (`/v2/...`, `/v3/...`) can answer, with its body and headers.

    Every one of them can answer 200, 400, 404, 413, 500 and 503; `conflict`
    adds 409, `throttled` 429. `replayable` marks the answers an
    `Idempotency-Key` keeps (200, 400 and 409) with `Idempotent-Replayed`.
    """
    replay = {"Idempotent-Replayed": _REPLAYED_HEADER} if replayable else None
    documented: Responses = {
        200: _answer(success, success_description, replay),
        400: _answer(
            InvalidRequestResponse,
            "The body is empty, not JSON or not a JSON object, or a parameter is invalid: "
            "`errors` lists every problem",
            replay,
        ),
        404: _answer(not_found, not_found_description),
    }
    if conflict is not None:
        documented[409] = _answer(conflict, conflict_description, replay)
    documented[413] = _answer(
        BodyTooLargeResponse,
        "The body is larger than `CONTACTHUB_MAX_BODY_BYTES` (1 MiB by default)",
    )
    if throttled:
        documented[429] = _answer(
            TooManyAttemptsResponse,
            "Too many recent failures for this id, or from this client address; even the "
            "right credentials are refused until `Retry-After` seconds have passed",
            {"Retry-After": _RETRY_AFTER_HEADER},
        )
    documented.update(INTERNAL_ERROR)
    documented[503] = _answer(
        ServiceUnavailableResponse,
        "The database cannot be reached, or another writer holds its lock too long; a retry "
        "may succeed",
        {"Retry-After": _RETRY_AFTER_HEADER},
    )
    return documented


# --- the document ---------------------------------------------------------------


def _documentation_routes(app: FastAPI) -> dict[str, Any]:
    """The routes left out of the document: the document itself, and /docs (api/docs_page.py)."""
    paths: dict[str, Any] = {}
    if app.openapi_url:
        paths[app.openapi_url] = _get_operation(
            "openapi", "This OpenAPI 3.1 description", "application/json", {"type": "object"}
        )
    paths[docs_page.DOCS_URL] = _get_operation(
        "swaggerUi",
        "The description as a browsable page (Swagger UI, served whole by this server)",
        "text/html",
        {"type": "string"},
    )
    return paths


def _get_operation(
    operation_id: str, summary: str, media_type: str, schema: dict[str, Any]
) -> dict[str, Any]:
    return {
        "get": {
            "tags": ["documentation"],
            "summary": summary,
            "operationId": operation_id,
            "responses": {
                "200": {"description": summary, "content": {media_type: {"schema": schema}}},
                "500": {
                    "description": INTERNAL_ERROR[500]["description"],
                    "content": {
                        "application/json": {
                            "schema": {"$ref": _REF.format(model=InternalErrorResponse.__name__)}
                        }
                    },
                },
            },
        }
    }


def _add_request_id(schema: dict[str, Any]) -> None:
    """Every operation reads `X-Request-ID`, and every answer carries one."""
    # New lists and dicts: FastAPI may have put the routes' own ones in the document.
    for path_item in schema["paths"].values():
        for operation in path_item.values():
            operation["parameters"] = [*operation.get("parameters", []), _REQUEST_ID_PARAMETER]
            for response in operation["responses"].values():
                response["headers"] = {
                    **response.get("headers", {}),
                    "X-Request-ID": _REQUEST_ID_HEADER,
                }


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=(app.description or "") + _CONVENTIONS,
                routes=app.routes,
            )
            schema["paths"].update(_documentation_routes(app))
            _add_request_id(schema)
            _, definitions = models_json_schema(
                [(model, "validation") for model in _request_models], ref_template=_REF
            )
            components = schema.setdefault("components", {})
            for name, definition in definitions.get("$defs", {}).items():
                components.setdefault("schemas", {}).setdefault(name, definition)
            components["securitySchemes"] = {
                BEARER_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The token of `POST /v2/user/login`, instead of the body's "
                    "`token` (the body wins when both are present)",
                }
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
