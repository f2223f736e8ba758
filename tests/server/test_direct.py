"""server/direct.py: the TeleCMI routes answered ahead of FastAPI's stack, as FastAPI would."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from contacthub.api.routes import contacts, users
from contacthub.config import Settings
from contacthub.edge.middleware import observed
from contacthub.errors import InvalidRequest, Problem
from contacthub.server.app import create_app
from contacthub.server.direct import DirectRoutes, route_table


class Framework:
    """Stands for FastAPI's own stack: notes what reached it."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])
        await JSONResponse({"from": "framework"})(scope, receive, send)


def direct_app(router: APIRouter, framework: Framework, seen: list[Scope]) -> ASGIApp:
    """The router's routes answered directly, and FastAPI's stack stood for by `framework`."""
    app = FastAPI()  # what the routes' requests name as their app

    def noting(inner: ASGIApp) -> ASGIApp:
        return observed(inner, observers=[lambda scope, _status, _seconds: seen.append(scope)])

    direct = DirectRoutes(route_table(router.routes), framework=framework, middleware=noting)

    async def entry(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = app
        await direct(scope, receive, send)

    return entry


def call(app: ASGIApp, method: str, path: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, json={})

    return asyncio.run(go())


@pytest.fixture
def router() -> APIRouter:
    router = APIRouter()

    @router.post("/v9/echo")
    async def echo(request: Request) -> Response:
        return JSONResponse({"from": "direct", "app": request.app is not None})

    @router.post("/v9/refused")
    async def refused(request: Request) -> Response:
        raise InvalidRequest([Problem("name", "is required")])

    @router.post("/v9/broken")
    async def broken(request: Request) -> Response:
        raise RuntimeError("boom")

    return router


def test_a_listed_route_is_answered_without_the_framework(router: APIRouter) -> None:
    framework, seen = Framework(), []
    response = call(direct_app(router, framework, seen), "POST", "/v9/echo")
    assert response.json() == {"from": "direct", "app": True}
    assert response.headers["x-request-id"]
    assert framework.paths == []
    # Observers label requests by the route's template, as after FastAPI's router.
    assert seen[0]["route"].path == "/v9/echo"


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/v9/echo"), ("POST", "/v9/echo/"), ("POST", "/v9/other")]
)
def test_any_other_method_or_path_goes_to_the_framework(
    router: APIRouter, method: str, path: str
) -> None:
    framework, seen = Framework(), []
    response = call(direct_app(router, framework, seen), method, path)
    assert response.json() == {"from": "framework"}
    assert framework.paths == [path]
    assert seen == []  # the framework's own stack observes it, not this one


def test_a_contacthub_error_becomes_the_envelope(router: APIRouter) -> None:
    response = call(direct_app(router, Framework(), []), "POST", "/v9/refused")
    assert response.status_code == 400
    assert response.json() == {
        "code": 400,
        "msg": "Invalid request parameters",
        "errors": [{"field": "name", "msg": "is required"}],
    }


def test_an_unexpected_exception_is_the_500_envelope(router: APIRouter) -> None:
    seen: list[Scope] = []
    response = call(direct_app(router, Framework(), seen), "POST", "/v9/broken")
    assert response.status_code == 500
    assert response.json() == {"code": 500, "msg": "Something went wrong!"}
    assert response.headers["x-request-id"]
    assert len(seen) == 1


class Payload(BaseModel):
    name: str


def _user() -> str:
    return "someone"


async def with_query(request: Request, page: int) -> Response:
    return Response()


async def with_body(payload: Payload) -> Response:
    return Response()


async def with_path(request: Request) -> Response:
    return Response()


def not_async(request: Request) -> Response:
    return Response()


@pytest.mark.parametrize(
    ("path", "endpoint", "dependencies"),
    [
        ("/q", with_query, []),
        ("/dep", with_path, [Depends(_user)]),
        ("/body", with_body, []),
        ("/items/{item}", with_path, []),
        ("/sync", not_async, []),
    ],
    ids=["query parameter", "dependency", "body model", "path parameter", "not async"],
)
def test_a_route_that_needs_the_framework_is_refused(
    path: str, endpoint: Any, dependencies: list[Any]
) -> None:
    router = APIRouter()
    router.add_api_route(path, endpoint, methods=["POST"], dependencies=dependencies)
    with pytest.raises(TypeError, match="serve it through FastAPI"):
        route_table(router.routes)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'contacthub.db'}"))
    yield app
    app.state.context.database.dispose()


def test_every_telecmi_route_is_answered_directly(app: FastAPI) -> None:
    stack = app.build_middleware_stack()
    assert isinstance(stack, DirectRoutes)
    routers = (users.router, contacts.router)
    declared = [(m, r.path) for router in routers for r in router.routes for m in r.methods]
    assert {path for _, path in declared} == {
        "/v2/user/add", "/v2/user/login", "/v2/user/logout",
        "/v3/contact/add", "/v3/contact/get", "/v3/contact/update", "/v3/contact/delete",
    }  # fmt: skip
    for method, path in declared:
        assert stack.route_for(method, path) is not None, path
    for method, path in [("GET", "/healthz"), ("GET", "/metrics"), ("GET", "/"), ("GET", "/docs")]:
        assert stack.route_for(method, path) is None, path


class Stamp:
    """A middleware as an operator might add one: marks every answer."""

    def __init__(self, app: ASGIApp, value: str) -> None:
        self.app = app
        self.value = value.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def stamped(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-stamp", self.value)]
            await send(message)

        await self.app(scope, receive, stamped)


def test_middleware_added_to_the_app_wraps_the_direct_routes_too(app: FastAPI) -> None:
    app.add_middleware(Stamp, value="outer")
    app.add_middleware(Stamp, value="outermost")
    for method, path in [
        ("POST", "/v3/contact/get"),
        ("POST", "/v2/user/login"),
        ("GET", "/healthz"),
    ]:
        answer = call(app, method, path)
        assert answer.headers.get_list("x-stamp") == ["outer", "outermost"], (path, answer.headers)
        assert answer.headers["x-request-id"]
