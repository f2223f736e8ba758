"""The API's own routes, answered without FastAPI's router and middleware stack.

Every TeleCMI route is `async def route(request: Request) -> Response`: it
reads and checks its body itself, so FastAPI has nothing to validate or
inject for it. Yet on the way in, a request passed seven framework layers
(error and telemetry middleware, a body limit, exception handling, an exit
stack, the router trying each route's pattern in turn, the endpoint
wrapper). Measured here under wrk: a trivial route through FastAPI costs
~200 µs of CPU per request, against ~35 µs for uvicorn alone; a
single-contact add ~700 µs in all. Alternating the two paths, single adds
at 16 connections went +24% to +54%, 100-contact batches +9% to +17%.

So these routes are found by method and exact path in one dict and called
directly, inside the same middleware as every other route (request id,
metrics, access log), and their errors become the same envelope
(`responses.response_for_error`). Everything else (the dashboard, /docs,
operations, any method or path not listed) goes through FastAPI as before;
the routes stay declared, and documented, on FastAPI's routers. Middleware
added to the app with `add_middleware` wraps these routes too (server/app.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from contacthub.edge.responses import response_for_error
from contacthub.errors import ContactHubError

Endpoint = Callable[[Request], Awaitable[Response]]
RouteTable = dict[tuple[str, str], APIRoute]  # (method, path) → route


def route_table(routes: Iterable[BaseRoute]) -> RouteTable:
    """The routes by method and exact path; TypeError for one that needs FastAPI."""
    table: RouteTable = {}
    for route in routes:
        if not isinstance(route, APIRoute) or _needs_framework(route):
            raise TypeError(
                f"{getattr(route, 'path', route)}: a direct route takes only "
                "`request: Request` and returns a Response; serve it through FastAPI instead"
            )
        for method in route.methods or ():
            table[method, route.path] = route
    return table


class DirectRoutes:
    """An ASGI app: the table's routes answered directly, anything else by `framework`."""

    def __init__(
        self,
        routes: RouteTable,
        *,
        framework: ASGIApp,
        middleware: Callable[[ASGIApp], ASGIApp],
    ) -> None:
        self._routes = routes
        self._framework = framework
        self._answer = middleware(self._call_endpoint)

    def route_for(self, method: str, path: str) -> APIRoute | None:
        """The route answered directly for this method and path, if any."""
        return self._routes.get((method, path))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.route_for(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if route is None:
            await self._framework(scope, receive, send)
            return
        # What FastAPI's router would have left in the scope: metrics label requests by the route.
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = {}
        await self._answer(scope, receive, send)

    @staticmethod
    async def _call_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        endpoint: Endpoint = scope["endpoint"]
        try:
            response = await endpoint(Request(scope, receive))
        except ContactHubError as error:
            response = response_for_error(error)
        await response(scope, receive, send)


def _needs_framework(route: APIRoute) -> bool:
    """Whether FastAPI would validate, inject or convert anything for this route."""
    parameters = list(inspect.signature(route.endpoint).parameters.values())
    only_request = len(parameters) == 1 and parameters[0].annotation in (Request, "Request")
    return (
        not only_request
        or bool(route.dependant.dependencies)  # declared on the route or its router
        or "{" in route.path
        or not inspect.iscoroutinefunction(route.endpoint)
    )
