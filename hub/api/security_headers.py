"""Security headers on every answer of the hub, pages and API alike (a pure ASGI middleware).

- ``Content-Security-Policy``: the dashboard's pages load scripts, styles, images and data from
  the hub's own origin only, and nothing else (no inline script, no ``eval``, no other site), so
  an injected string cannot run even if some page rendered it as markup. Other answers (JSON,
  CSV, scripts, the API docs' assets) get ``default-src 'none'``: nothing in them may load or run.
  ``/docs`` (Swagger UI, served from the package) has its own policy: its styles are inline.
- ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``: no other page may frame the hub
  (clickjacking an operator into revoking a user, say).
- ``Referrer-Policy: no-referrer``: a page's address (``?site=``, ``next=``) goes nowhere.
- ``X-Content-Type-Options: nosniff``: an answer is only ever what its type says.

A header the application set itself is left as it is.

With ``HUB_MAP_TILE_URL`` set, the pages may also load images from that one origin (the city's
tile server, for the venue maps) and nothing else from it: ``img-src 'self' data: ORIGIN``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
"""For the dashboard's HTML pages (ECharts draws on a canvas: nothing inline is needed)."""

DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # Swagger UI sets style attributes in its markup
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
"""For ``/docs``: Swagger UI from the package, its own script, the hub's OpenAPI document."""

OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'"
"""For everything that is not a page: JSON, CSV, XLSX, scripts, styles, images."""

COMMON = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

DOCS_PATH = "/docs"


def tile_origin(tile_url: str | None) -> str | None:
    """The scheme and host of the tile URL template (``https://tiles.example.cn``)."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url.replace("{", "").replace("}", ""))
    return f"{parts.scheme}://{parts.netloc}"


def page_policy(tile_url: str | None = None) -> str:
    origin = tile_origin(tile_url)
    if origin is None:
        return PAGE_POLICY
    return PAGE_POLICY.replace("img-src 'self' data:", f"img-src 'self' data: {origin}")


class SecurityHeaders:
    """Adds the headers above to every HTTP response of the wrapped app."""

    def __init__(self, app: ASGIApp, *, tile_url: str | None = None) -> None:
        self.app = app
        self.page_policy = page_policy(tile_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"] == DOCS_PATH

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                html = headers.get("content-type", "").startswith("text/html")
                policy = (DOCS_POLICY if docs else self.page_policy) if html else OTHER_POLICY
                headers.setdefault("Content-Security-Policy", policy)
                for name, value in COMMON.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
