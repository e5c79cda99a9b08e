"""Serve the dashboard's files from the package, so a Python install alone serves it.

The source lives in ``dashboards/web/`` at the top of the repository; the wheel carries it as
``hub/api/dashboard/web/`` (hatch ``force-include``), so there is one copy in git and no sync step. A
source checkout or an editable install serves ``dashboards/web/`` directly.

Each page ``NAME.html`` is served at ``/NAME`` (``index.html`` at ``/``) and each folder of assets
at its own prefix (``/js/``, ``/i18n/``...): explicit paths, so the dashboard never shadows an API
route, whatever order the routes are added in. Pages are sent as they are, with no server-side
include: the frame they share (icon, header, menu, footer) is made once by ``js/shell.js``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from hub.api.dashboard.apidocs import add_api_docs

log = logging.getLogger(__name__)

PACKAGED = Path(__file__).resolve().parent / "web"
SOURCE = Path(__file__).resolve().parents[3] / "dashboards" / "web"

_GZIP_MIN_BYTES = 1024
_HEADERS = {
    # Browsers must ask again (a cheap 304) rather than run yesterday's modules after an
    # upgrade: ES modules are loaded by URL, with no hashed file names to bust a cache.
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
}


def web_root() -> Path | None:
    """Where the dashboard's files are: in the installed package, else in the source tree."""
    for candidate in (PACKAGED, SOURCE):
        if (candidate / "index.html").is_file():
            return candidate
    return None


class _RevalidatedFiles(StaticFiles):
    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(_HEADERS)
        return response


ALIASES = {"/public/request": "public-request.html"}
"""Pages served at a second address as well: the resident's request form at the address printed
on posters (docs/service-requests.md)."""


def page_paths(root: Path) -> dict[str, Path]:
    """URL path of each page: ``/`` for ``index.html``, ``/NAME`` for ``NAME.html``, and the
    :data:`ALIASES` whose page is there."""
    paths = {
        "/" if page.stem == "index" else f"/{page.stem}": page
        for page in sorted(root.glob("*.html"))
    }
    for alias, name in ALIASES.items():
        if (root / name).is_file():
            paths[alias] = root / name
    return paths


def add_dashboard(app: FastAPI, root: Path | None = None) -> bool:
    """Serve the pages and assets under ``root`` (default ``web_root()``); ``False`` if none."""
    root = root or web_root()
    if root is None:
        log.warning(
            "no dashboard files in %s or %s: the API is served without the dashboard",
            PACKAGED,
            SOURCE,
        )
        return False
    for path, page in page_paths(root).items():
        app.add_api_route(
            path, _page_endpoint(page), methods=["GET"], include_in_schema=False, name=page.stem
        )
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = GZipMiddleware(_RevalidatedFiles(directory=folder), minimum_size=_GZIP_MIN_BYTES)
        app.mount(f"/{folder.name}", files, name=f"dashboard-{folder.name}")
    add_api_docs(app, root)
    return True


def _page_endpoint(page: Path) -> Callable[[], Awaitable[FileResponse]]:
    async def serve_page() -> FileResponse:
        return FileResponse(page, media_type="text/html; charset=utf-8", headers=_HEADERS)

    return serve_page
