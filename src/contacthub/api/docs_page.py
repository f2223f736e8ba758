"""/docs: Swagger UI, every file of it served by contacthub, under a policy of its own origin.

FastAPI's page loads Swagger UI's script and style from a CDN with no
integrity check, and starts it with an inline script: whoever serves or
changes those files runs script on this origin, where the dashboard's session
lives, and the page needs the CDN to work at all. Here the files come from the
fastapi-offline package (Swagger UI's own dist files, installed with
contacthub), the script that starts Swagger UI is a file too, and the page's
Content-Security-Policy lets it load from this origin only. FastAPI's ReDoc
page, which loads from a CDN as well, and its OAuth 2 redirect page (for an
OAuth 2 scheme this API does not have) are not served.
"""

from __future__ import annotations

import html
import json
from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

DOCS_URL = "/docs"

# Swagger UI's data: images are its CSS's icons.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_HEADERS = {"Content-Security-Policy": POLICY, "X-Content-Type-Options": "nosniff"}

# The files of Swagger UI's dist the page loads, and their media types.
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}
_PACKAGED = Path(str(files("fastapi_offline") / "static"))
_INIT = "swagger-ui-init.js"
# The page's own files, served beside it and documented with it (GET /docs).
FILE_PATHS = tuple(f"{DOCS_URL}/{name}" for name in (*_ASSETS, _INIT))


def install(app: FastAPI) -> None:
    """Serve /docs and its files; `app` must be made with FastAPI's own docs pages off."""
    assert app.docs_url is None, "FastAPI's page loads from a CDN"
    assert app.redoc_url is None, "FastAPI's ReDoc page loads from a CDN"
    assert app.openapi_url is not None
    page = _page(app.title)
    init = _init_script(app.openapi_url)

    async def docs(_request: Request) -> Response:
        return HTMLResponse(page, headers=_HEADERS)

    async def init_script(_request: Request) -> Response:
        return Response(init, media_type="text/javascript", headers=_HEADERS)

    app.add_route(DOCS_URL, docs, include_in_schema=False)
    app.add_route(f"{DOCS_URL}/{_INIT}", init_script, include_in_schema=False)
    for name, media_type in _ASSETS.items():
        app.add_route(f"{DOCS_URL}/{name}", _file(_PACKAGED / name, media_type))


def _file(path: Path, media_type: str) -> Callable[[Request], Awaitable[Response]]:
    if not path.is_file():  # a package without it: fail when the app is made, not on a visit
        raise RuntimeError(f"Swagger UI's {path.name} is missing from {path.parent}")

    async def serve(_request: Request) -> Response:
        return FileResponse(path, media_type=media_type, headers=_HEADERS)

    return serve


def _page(title: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)} - Swagger UI</title>
<link rel="stylesheet" href="{DOCS_URL}/swagger-ui.css">
<link rel="icon" type="image/png" href="{DOCS_URL}/favicon.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{DOCS_URL}/swagger-ui-bundle.js"></script>
<script src="{DOCS_URL}/{_INIT}"></script>
</body>
</html>
"""


def _init_script(openapi_url: str) -> str:
    # FastAPI's own settings of its page; no validator: its badge is an image from swagger.io.
    return f"""window.ui = SwaggerUIBundle({{
  url: {json.dumps(openapi_url)},
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
}});
"""
