"""Request bodies are bounded per route before they are read (a pure ASGI middleware).

Without it a handler reads whatever it is sent: four 200 MB posts to the unauthenticated
``POST /api/v1/session`` took the hub to 2.2 GB. A body larger than its route's limit gets 413
with a JSON ``detail``: at once when its ``Content-Length`` says so (nothing of it is read), or
as soon as the bytes streamed so far pass the limit (a chunked body has no length). The
application then sees the client as gone, so it stops reading, and whatever it answers after
the 413 is dropped. The connection is closed after a 413, since the rest of the body was never
read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)


class BodyLimit:
    """``limits``: (path prefix, bytes), the first prefix that matches wins; other paths get
    ``default``."""

    def __init__(
        self, app: ASGIApp, *, default: int, limits: Sequence[tuple[str, int]] = ()
    ) -> None:
        self.app = app
        self.default = default
        self.limits = tuple(limits)

    def limit_for(self, path: str) -> int:
        return next((most for prefix, most in self.limits if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        most = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > most:
            await _refuse(send, most)
            return
        received = 0
        refused = False
        started = False

        async def bounded_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > most:
                    refused = True
                    if not started:
                        await _refuse(send, most)
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has gone out: the application's own answer comes too late
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracked_send)
        except Exception:
            if not refused:
                raise
            # The application failed on the body it was denied; the client has its 413.
            log.debug("%s %s: stopped at the body limit", scope["method"], scope["path"])


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses such a request before it gets here
    return None


async def _refuse(send: Send, most: int) -> None:
    body = json.dumps(
        {"detail": f"the request body is larger than {most:,} bytes, this route's limit"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
