"""The FastAPI application: routes, the error envelope on every answer, and lifecycle."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import partial
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from contacthub import __version__, metrics, web
from contacthub.api import docs_page, openapi
from contacthub.api.routes import contacts, operations, users
from contacthub.config import Settings
from contacthub.domain.addresses import Network, parse_networks
from contacthub.edge.access_log import AccessLog
from contacthub.edge.context import AppContext
from contacthub.edge.middleware import Observer, observed
from contacthub.edge.responses import error_response, response_for_error
from contacthub.errors import ContactHubError
from contacthub.server.direct import DirectRoutes, route_table
from contacthub.storage.database import Database

# The TeleCMI API: declared on FastAPI's routers (and so documented), answered
# directly, ahead of FastAPI's stack (server/direct.py). Checked here, on import:
# a route that needs FastAPI stops the server from starting, not a first request.
DIRECT_ROUTES = route_table(
    route for router in (users.router, contacts.router) for route in router.routes
)


class _ContactHubAPI(FastAPI):
    """FastAPI, with the direct routes in front of the stack it builds on its first request.

    Middleware added with `add_middleware` (CORS, GZip, an auth check) wraps the direct
    routes as well as FastAPI's: it is taken out of FastAPI's stack and put around both.
    """

    def __init__(
        self,
        *,
        observers: Sequence[Observer],
        trusted_proxies: tuple[Network, ...],
        **options: Any,
    ) -> None:
        super().__init__(**options)
        # What every answer is reported to, whichever path it took.
        self._observed = partial(
            observed, observers=tuple(observers), trusted_proxies=trusted_proxies
        )
        self.add_middleware(self._observed)
        self._observing = self.user_middleware[0]

    def build_middleware_stack(self) -> ASGIApp:
        added = [entry for entry in self.user_middleware if entry is not self._observing]
        everything = self.user_middleware
        self.user_middleware = [self._observing]
        try:
            framework = super().build_middleware_stack()
        finally:
            self.user_middleware = everything
        app: ASGIApp = DirectRoutes(DIRECT_ROUTES, framework=framework, middleware=self._observed)
        for cls, args, kwargs in reversed(added):
            app = cls(app, *args, **kwargs)
        return app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    database = Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        pool_timeout_seconds=settings.db_pool_timeout_seconds,
        statement_timeout_ms=settings.db_statement_timeout_ms,
        sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )

    access_log = AccessLog()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        access_log.flush()
        database.dispose()

    app = _ContactHubAPI(
        observers=(metrics.observe_request, access_log.observe),
        trusted_proxies=parse_networks(settings.trusted_proxies),
        title="contacthub",
        version=__version__,
        description="A self-hostable contact service that speaks the TeleCMI contact API.",
        lifespan=lifespan,
        redirect_slashes=False,
        # FastAPI's pages load from a CDN: /docs is served whole by api/docs_page.py.
        docs_url=None,
        redoc_url=None,
    )
    app.state.context = AppContext(settings=settings, database=database)
    for module in (users, contacts, operations):
        app.include_router(module.router)
    web.install(app)  # the dashboard at /: its routes and /static, outside the OpenAPI schema
    docs_page.install(app)
    _install_error_handlers(app)
    openapi.install(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    async def on_contacthub_error(_request: Request, error: Exception) -> Response:
        assert isinstance(error, ContactHubError)
        return response_for_error(error)

    async def on_http_error(_request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        msg = "Not found" if error.status_code == 404 else HTTPStatus(error.status_code).phrase
        return error_response(error.status_code, msg, headers=dict(error.headers or {}))

    async def on_validation_error(_request: Request, error: Exception) -> Response:
        # Our routes read their bodies themselves; this only guards against a
        # framework check ever answering in FastAPI's own 422 shape.
        assert isinstance(error, RequestValidationError)
        problems = [
            {"field": ".".join(str(part) for part in item["loc"]), "msg": item["msg"]}
            for item in error.errors()
        ]
        return error_response(400, "Invalid request parameters", errors=problems)

    app.add_exception_handler(ContactHubError, on_contacthub_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
