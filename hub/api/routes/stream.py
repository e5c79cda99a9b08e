"""``GET /api/v1/stream``: committed events pushed to dashboard pages as server-sent events.

Each message's ``event:`` is its topic and its ``id:`` lets a reconnecting browser (EventSource
sends ``Last-Event-ID`` by itself) pick up what it missed. Besides the topics, a stream says
``hello`` when it opens (``resumed`` tells whether nothing was lost since the last id) and
``resync`` when this client fell behind and lost events: then the page fetches the current state
again. A comment line every ``keepalive_s`` (``HUB_STREAM_KEEPALIVE_S``) keeps proxies from
closing an idle stream.

Credentials are checked when the stream opens and again every ``keepalive_s`` while it runs
(one digest lookup): the stream of a user revoked, logged out or whose session expired ends
then, and the browser's reconnection meets a 401.

Each topic needs the permission that reads the same records over the API (``TOPIC_PERMISSION``),
and a scoped user (a centre's staff, a venue manager) gets only the events of its own sites.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from hub.api.auth import AuthenticatedDep, Credential, CredentialDep, forbidden, still_works
from hub.api.deps import LiveDep
from hub.auth import Permission, Principal
from hub.live import LiveFeed, LiveTopic, Subscription

log = logging.getLogger(__name__)

router = APIRouter(tags=["live"])

RECONNECT_MS = 1000
"""What the browser waits before reconnecting (its default is about 3 s)."""

_TOPICS = ", ".join(t.value for t in LiveTopic)

TOPIC_PERMISSION: dict[LiveTopic, Permission] = {
    LiveTopic.CHECKINS: Permission.CHECKINS_READ,
    LiveTopic.READINGS: Permission.READINGS_READ,
    LiveTopic.OCCUPANCY: Permission.VENUES_READ,
    LiveTopic.DEVICES: Permission.DEVICES_READ,
    LiveTopic.DEAD_LETTERS: Permission.DEAD_LETTERS_READ,
}


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
    request: Request,
    *,
    live: LiveDep,
    principal: AuthenticatedDep,
    credential: CredentialDep,
    topics: Annotated[
        str | None,
        Query(
            description=f"comma-separated, any of: {_TOPICS} (default: all the caller may "
            "read); a topic the caller's role may not read is 403",
            examples=["checkins,devices"],
        ),
    ] = None,
    last_event_id: Annotated[
        str | None, Header(description="sent by EventSource when it reconnects")
    ] = None,
) -> StreamingResponse:
    """Live check-ins, readings, device state and dead letters, within moments of their commit."""
    wanted = _permitted(principal, _parse_topics(topics), explicit=bool(topics and topics.strip()))
    assert credential is not None, "an authenticated request came with a credential"
    still_allowed = partial(_still_allowed, request, credential)
    sub = live.subscribe(wanted, asyncio.get_running_loop(), last_event_id, sites=principal.sites)
    return StreamingResponse(
        _messages(live, sub, live.keepalive_s, still_allowed),
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


def _permitted(principal: Principal, topics: list[LiveTopic], *, explicit: bool) -> list[LiveTopic]:
    allowed = [t for t in topics if principal.can(TOPIC_PERMISSION[t])]
    refused = [t.value for t in topics if t not in allowed]
    if (explicit and refused) or not allowed:
        raise forbidden(
            f"the {principal.role.value} role may not follow "
            + (", ".join(refused) if refused else "any topic")
        )
    return allowed


async def _still_allowed(request: Request, credential: Credential) -> bool:
    """Off the event loop: the lookup is a blocking database call. A database that cannot
    answer cannot vouch for anyone either: the stream ends and the browser asks again."""
    try:
        return await run_in_threadpool(still_works, request.app.state.sessions, credential)
    except SQLAlchemyError as exc:
        log.warning("live stream: cannot check its credentials, ending it: %s", exc)
        return False


async def _messages(
    live: LiveFeed,
    sub: Subscription,
    keepalive_s: float,
    still_allowed: Callable[[], Awaitable[bool]],
) -> AsyncIterator[str]:
    hello = {"epoch": live.epoch, "resumed": sub.resumed, "topics": sorted(sub.topics)}
    loop = asyncio.get_running_loop()
    checked = loop.time()
    try:
        yield f"retry: {RECONNECT_MS}\n\n" + _message("hello", hello)
        while True:
            taken = await sub.take(keepalive_s)
            idle = not (taken.events or taken.resync or taken.closed)
            # at every keep-alive, and as often on a busy stream, before anything more is sent
            if idle or loop.time() - checked >= keepalive_s:
                if not await still_allowed():
                    return
                checked = loop.time()
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
