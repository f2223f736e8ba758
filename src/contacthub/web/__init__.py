"""The dashboard: server-rendered pages for the people who own the contacts, at `/`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from contacthub.web.routes import router

STATIC_DIR = Path(__file__).with_name("static")


def install(app: FastAPI) -> None:
    """Serve the pages and their assets; neither appears in the OpenAPI description."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
