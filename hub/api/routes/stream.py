"""``GET /api/v1/stream``: committed events pushed to dashboard pages as server-sent events.

Each message's ``event:`` is its topic and its ``id:`` lets a reconnecting browser (EventSource
sends ``Last-Event-ID`` by itself) pick up what it missed. Besides the topics, a stream says
``hello`` when it opens (``resumed`` tells whether nothing was lost since the last id) and
``resync`` when this client fell behind and lost events: then the page fetches the current state
again. A comment line every ``keepalive_s`` keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, status
from fastapi.responses import StreamingResponse

from hub.api.deps import LiveDep
from hub.live import LiveFeed, LiveTopic, Subscription

router = APIRouter(prefix="/api/v1", tags=["live"])

RECONNECT_MS = 1000
"""What the browser waits before reconnecting (its default is about 3 s)."""

_TOPICS = ", ".join(t.value for t in LiveTopic)


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                "text/event-stream": {
                    "example": 'retry: 1000\n\nevent: hello\ndata: {"epoch": "9f1c2a", '
                    '"resumed": false, "topics": ["checkins"]}\n\nid: 9f1c2a-17\n'
                    'event: checkins\ndata: {"event_id": "0b6f6d4e-...", "site_id": '
                    '"centre-01", "device_id": "reader-1", "decision": "allowed", ...}\n\n'
                }
            },
            "description": "an endless stream of server-sent events",
        }
    },
)
async def stream(
    live: LiveDep,
    topics: Annotated[
        str | None,
        Query(
            description=f"comma-separated, any of: {_TOPICS} (default: all)",
            examples=["checkins,devices"],
        ),
    ] = None,
    last_event_id: Annotated[
        str | None, Header(description="sent by EventSource when it reconnects")
    ] = None,
) -> StreamingResponse:
    """Live check-ins, readings, device state and dead letters, within moments of their commit."""
    wanted = _parse_topics(topics)
    sub = live.subscribe(wanted, asyncio.get_running_loop(), last_event_id)
    return StreamingResponse(
        _messages(live, sub, live.keepalive_s),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _parse_topics(raw: str | None) -> list[LiveTopic]:
    if raw is None or not raw.strip():
        return list(LiveTopic)
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in names if name not in LiveTopic.__members__.values()]
    if unknown:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"unknown topics {unknown}; choose from: {_TOPICS}",
        )
    return [LiveTopic(name) for name in names]


async def _messages(live: LiveFeed, sub: Subscription, keepalive_s: float) -> AsyncIterator[str]:
    hello = {"epoch": live.epoch, "resumed": sub.resumed, "topics": sorted(sub.topics)}
    try:
        yield f"retry: {RECONNECT_MS}\n\n" + _message("hello", hello)
        while True:
            taken = await sub.take(keepalive_s)
            if taken.resync:
                live.count_resync()
                yield _message("resync", {"reason": "this client fell behind"})
            if taken.events:
                yield "".join(
                    f"id: {live.event_id(e.seq)}\nevent: {e.topic}\ndata: {e.json}\n\n"
                    for e in taken.events
                )
            elif not taken.resync and not taken.closed:
                yield ": keep-alive\n\n"
            if taken.closed:
                return
    finally:
        live.unsubscribe(sub)


def _message(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
