"""The OpenAPI description: FastAPI's, plus the request bodies our routes read themselves."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from contacthub.api.schemas import ErrorResponse

_REF = "#/components/schemas/{model}"
_request_models: list[type[BaseModel]] = []

_ERROR_DESCRIPTIONS = {
    400: "Invalid request parameters: `errors` lists every problem",
    404: "Authenticated user record not found",
    409: "Conflict with stored data",
    413: "Request body too large",
    429: "Too many failed attempts; see Retry-After",
    500: "Something went wrong!",
    503: "Database unavailable; retry",
}


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route that reads a body of this shape."""
    _request_models.append(model)
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}
            },
        }
    }


def responses(success: type[BaseModel], *errors: int) -> dict[int | str, dict[str, Any]]:
    documented: dict[int | str, dict[str, Any]] = {200: {"model": success}}
    for status in (*errors, 500):
        documented[status] = {"model": ErrorResponse, "description": _ERROR_DESCRIPTIONS[status]}
    return documented


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            _, definitions = models_json_schema(
                [(model, "validation") for model in _request_models], ref_template=_REF
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, definition in definitions.get("$defs", {}).items():
                components.setdefault(name, definition)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
