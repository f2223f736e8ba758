"""The dashboard: server-rendered pages for the people who own the contacts, at `/`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from contacthub.web import import_routes
from contacthub.web.importing import ImportSlots
from contacthub.web.routes import Answered, router

STATIC_DIR = Path(__file__).with_name("static")
# Every dashboard route: kept out of the OpenAPI description, on purpose.
ROUTERS = (router, import_routes.router)


def install(app: FastAPI) -> None:
    """Serve the pages and their assets; neither appears in the OpenAPI description.

    `app.state.context` must be set: its settings bound the imports at once.
    """
    app.state.import_slots = ImportSlots(app.state.context.settings.max_concurrent_imports)
    for dashboard_router in ROUTERS:
        app.include_router(dashboard_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    async def send_the_answer(_request: Request, answered: Exception) -> Response:
        assert isinstance(answered, Answered)
        return answered.response

    # A page that needs a login, or a POST whose CSRF token is wrong, is answered
    # here: the routes raise instead of each checking and returning early.
    app.add_exception_handler(Answered, send_the_answer)
