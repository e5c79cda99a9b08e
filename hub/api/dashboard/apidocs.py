"""``/docs``: the API's interactive documentation (Swagger UI), served from the package.

FastAPI's own ``/docs`` page loads Swagger UI from a public CDN into the hub's origin, where it
runs next to an operator's session cookie, and configures it with an inline script. This page
loads the copy vendored from npm at a pinned version (``dashboards/vendor.sh``,
``vendor/swagger-ui/``) and a script of the dashboard's own, so it works with no internet and
under a Content-Security-Policy that allows no inline script (``hub.api.security_headers``).
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

DOCS_PATH = "/docs"
BUNDLE = "vendor/swagger-ui/swagger-ui-bundle.js"
STYLES = "vendor/swagger-ui/swagger-ui.css"
STARTER = "js/apidocs.js"
"""Starts Swagger UI on ``app.openapi_url`` (read from the page's ``data-openapi``)."""


def add_api_docs(app: FastAPI, root: Path) -> bool:
    """Serve ``/docs`` if the vendored Swagger UI is under ``root``; ``False`` if it is not."""
    if not all((root / path).is_file() for path in (BUNDLE, STYLES, STARTER)):
        return False
    page = _page(app.title, app.openapi_url or "/openapi.json")
    app.add_api_route(
        DOCS_PATH, _endpoint(page), methods=["GET"], include_in_schema=False, name="api-docs"
    )
    return True


def _page(title: str, openapi_url: str) -> str:
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{html.escape(title)} · API</title>
    <link rel="icon" href="/img/favicon.svg" type="image/svg+xml">
    <link rel="stylesheet" href="/{STYLES}">
  </head>
  <body>
    <div id="swagger-ui" data-openapi="{html.escape(openapi_url)}"></div>
    <script src="/{BUNDLE}"></script>
    <script src="/{STARTER}"></script>
  </body>
</html>
"""


def _endpoint(page: str) -> Callable[[], Awaitable[HTMLResponse]]:
    async def api_docs() -> HTMLResponse:
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    return api_docs
