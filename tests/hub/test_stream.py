"""``/api/v1/stream`` over a real server: hello, events with ids, resume, keep-alive, shutdown,
committed MQTT messages arriving on it once each, and the streams of users revoked, logged out
or expired ending while open."""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy import Engine

from community.cli import main as community
from hub.api import create_app
from hub.api.app import close_live_streams
from hub.api.auth import SESSION_COOKIE
from hub.auth import Role
from hub.auth.models import UserSession
from hub.composition import build_app
from hub.core.settings import HubSettings
from hub.live import LiveEvent, LiveFeed, LiveTopic
from mqtt_contract import topics
from mqtt_contract.credentials import card_hash
from tests.hub.support import (
    CARD_KEY,
    ApiServer,
    EdgeClient,
    StartWorker,
    checkin,
    event_topic,
    health,
    wait_until,
)
from tests.users import bearer, user_token

FULL_HASH = re.compile(r"[0-9a-fA-F]{64}")
"""A card's whole keyed hash: the live API and stream show only its first 8 characters."""


@dataclass
class Message:
    event: str = "message"
    data: str = ""
    id: str | None = None
    comments: list[str] = field(default_factory=list)


class StreamReader:
    """Reads an SSE response on a thread into a queue of messages."""

    open_readers: list[StreamReader] = []  # noqa: RUF012 - joined by the fixtures' teardown

    def __init__(self, http: httpx.Client, path: str, headers: dict[str, str] | None = None):
        StreamReader.open_readers.append(self)
        self.error: Exception | None = None
        self.messages: queue.Queue[Message | None] = queue.Queue()
        self.status: int | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(http, path, headers or {}))
        self._thread.start()
        assert self._ready.wait(10), "no response"

    def _read(self, http: httpx.Client, path: str, headers: dict[str, str]) -> None:
        try:
            with http.stream("GET", path, headers=headers, timeout=20) as response:
                self.status = response.status_code
                self._ready.set()
                current = Message()
                for line in response.iter_lines():
                    if line == "":
                        if current.data or current.event != "message" or current.comments:
                            self.messages.put(current)
                        current = Message()
                    elif line.startswith(":"):
                        current.comments.append(line[1:].strip())
                    else:
                        name, _, value = line.partition(": ")
                        if name == "event":
                            current.event = value
                        elif name == "data":
                            current.data = value
                        elif name == "id":
                            current.id = value
        except httpx.HTTPError as exc:
            self.error = exc
        finally:
            self._ready.set()
            self.messages.put(None)

    def next(self, timeout: float = 5.0, *, skip_comments: bool = True) -> Message | None:
        while True:
            message = self.messages.get(timeout=timeout)
            if message is None or not (skip_comments and message.event == "message"):
                return message

    def join(self, timeout: float = 10.0) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()


def _stop(app: FastAPI, server: ApiServer) -> None:
    """Streams first (the server waits for open responses), then their readers, then uvicorn."""
    close_live_streams(app)
    readers, StreamReader.open_readers = StreamReader.open_readers, []
    for reader in readers:
        assert reader.join(), "a stream did not end"
        assert reader.error is None, reader.error
    server.close()


@pytest.fixture
def feed() -> LiveFeed:
    return LiveFeed(keepalive_s=0.2)


@pytest.fixture
def served(db_settings: HubSettings, feed: LiveFeed) -> Iterator[ApiServer]:
    app = create_app(db_settings, live=feed)
    server = ApiServer(app)
    yield server
    _stop(app, server)


def _wait_for_client(feed: LiveFeed, n: int = 1) -> None:
    wait_until(lambda: feed.client_count >= n, 5, "the stream to subscribe")


def test_hello_then_events_with_resumable_ids(served: ApiServer, feed: LiveFeed) -> None:
    reader = StreamReader(served.http, "/api/v1/stream?topics=checkins")
    assert reader.status == 200
    hello = reader.next()
    assert hello is not None
    assert hello.event == "hello"
    assert json.loads(hello.data) == {"epoch": feed.epoch, "resumed": False, "topics": ["checkins"]}
    _wait_for_client(feed)
    feed.publish(
        [
            LiveEvent(LiveTopic.DEVICES, {"site_id": "centre-01"}),
            LiveEvent(LiveTopic.CHECKINS, {"site_id": "centre-01", "decision": "allowed"}),
        ]
    )
    tap = reader.next()
    assert tap is not None
    assert tap.event == "checkins"
    assert tap.id == feed.event_id(2), "ids count every event of the feed"
    assert json.loads(tap.data) == {"site_id": "centre-01", "decision": "allowed"}

    feed.publish([LiveEvent(LiveTopic.CHECKINS, {"n": 3}), LiveEvent(LiveTopic.CHECKINS, {"n": 4})])
    assert tap.id is not None
    again = StreamReader(served.http, "/api/v1/stream?topics=checkins", {"Last-Event-ID": tap.id})
    hello = again.next()
    assert hello is not None
    assert json.loads(hello.data)["resumed"] is True
    missed = [again.next(), again.next()]
    assert [json.loads(m.data)["n"] for m in missed if m is not None] == [3, 4]


def test_an_idle_stream_sends_keep_alive_comments(served: ApiServer) -> None:
    reader = StreamReader(served.http, "/api/v1/stream")
    assert reader.next() is not None  # hello
    comment = reader.next(skip_comments=False)
    assert comment is not None
    assert comment.comments == ["keep-alive"]


def test_unknown_topics_are_refused(served: ApiServer) -> None:
    response = served.get("/api/v1/stream", topics="checkins,weather")
    assert response.status_code == 422
    assert "weather" in response.json()["detail"]


def test_closing_the_live_streams_lets_the_server_stop(
    db_settings: HubSettings, feed: LiveFeed
) -> None:
    app = create_app(db_settings, live=feed)
    server = ApiServer(app)
    reader = StreamReader(server.http, "/api/v1/stream")
    assert reader.next() is not None
    close_live_streams(app)
    assert reader.next() is None, "the stream ends"
    _stop(app, server)
    assert not server.thread.is_alive(), "uvicorn stopped"


def test_committed_messages_reach_the_stream_once_each(
    hub_settings: HubSettings, start_worker: StartWorker, edge: Callable[..., EdgeClient]
) -> None:
    worker = start_worker()
    feed = LiveFeed()
    app = build_app(hub_settings, ingest=worker, live=feed)
    server = ApiServer(app)
    try:
        reader = StreamReader(server.http, "/api/v1/stream")
        assert reader.next() is not None
        _wait_for_client(feed)
        client = edge("centre-01")
        tap = checkin(1)
        client.publish(event_topic(tap), tap.to_bytes())
        client.publish(event_topic(tap), tap.to_bytes())  # redelivered: recorded and shown once
        client.publish(topics.health("centre-01"), health().to_bytes())
        client.publish(event_topic(checkin(2)), b"not json")
        got: dict[str, list[dict[str, object]]] = {}
        while sum(len(v) for v in got.values()) < 3:
            message = reader.next(10)
            assert message is not None
            got.setdefault(message.event, []).append(json.loads(message.data))
            assert not FULL_HASH.search(message.data), "a card's whole hash never leaves the hub"
        assert [m["event_id"] for m in got["checkins"]] == [str(tap.id)]
        assert got["checkins"][0]["card_ref"] == card_hash(CARD_KEY, "0A1B2C3D4E")[:8]
        assert got["devices"][0]["site_id"] == "centre-01"
        assert got["dead_letters"][0]["reason_kind"] == "not_json"
    finally:
        _stop(app, server)


# --- credentials checked again while a stream runs --------------------------------------------


@dataclass
class Streams:
    """A hub whose streams re-check credentials every ``HUB_STREAM_KEEPALIVE_S`` = 0.2 s."""

    app: FastAPI
    api: ApiServer
    operator: str
    """An operator's token, for the users API."""

    def open(self, headers: dict[str, str]) -> StreamReader:
        reader = StreamReader(self.api.http, "/api/v1/stream?topics=checkins", headers)
        assert reader.status == 200
        hello = reader.next()
        assert hello is not None
        assert hello.event == "hello"
        return reader

    def log_in(self, token: str) -> str:
        response = self.api.http.post("/api/v1/session", json={"token": token})
        return response.cookies[SESSION_COOKIE]

    def publish(self, n: int) -> None:
        feed: LiveFeed = self.app.state.live
        feed.publish([LiveEvent(LiveTopic.CHECKINS, {"site_id": "centre-01", "n": n})])


def cookie(value: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={value}"}


def ends(reader: StreamReader, while_busy: Callable[[int], None] | None = None) -> bool:
    """Whether the stream ends (its reader's ``None``) within a generous 20 s; ``while_busy``
    publishes meanwhile, so the end cannot wait for an idle moment."""
    deadline = time.monotonic() + 20
    n = 0
    while time.monotonic() < deadline:
        if while_busy is not None:
            while_busy(n := n + 1)
        try:
            message = reader.messages.get(timeout=0.01 if while_busy else 1)
        except queue.Empty:
            continue
        if message is None:
            return True
    return False


def still_streams(streams: Streams, reader: StreamReader) -> bool:
    streams.publish(-1)
    while (message := reader.next(10)) is not None:
        if json.loads(message.data).get("n") == -1:
            return True
    return False


@pytest.fixture
def streams(db_settings: HubSettings) -> Iterator[Streams]:
    settings = db_settings.model_copy(update={"stream_keepalive_s": 0.2})
    app = create_app(settings)
    assert app.state.live.keepalive_s == 0.2, "HUB_STREAM_KEEPALIVE_S"
    server = ApiServer(app, anonymous=True)
    operator = user_token(settings.database_url, Role.OPERATOR, username="ops")
    yield Streams(app, server, operator)
    _stop(app, server)


def test_a_revoked_users_streams_end(
    streams: Streams, db_settings: HubSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    url = db_settings.database_url
    token = user_token(url, Role.RECORDS_STAFF, username="lin")
    by_token = streams.open(bearer(token))
    by_cookie = streams.open(cookie(streams.log_in(token)))
    bystander = streams.open(bearer(streams.operator))
    assert community(["user", "revoke", "lin", "--database-url", url]) == 0
    capsys.readouterr()
    assert ends(by_token, streams.publish), "the token's stream, busy with events"
    assert ends(by_cookie), "the session's stream, idle"
    assert still_streams(streams, bystander), "another user's stream goes on"

    other = user_token(url, Role.RECORDS_STAFF, username="ma")
    reader = streams.open(cookie(streams.log_in(other)))
    revoked = streams.api.http.post("/api/v1/users/ma/revoke", headers=bearer(streams.operator))
    assert revoked.status_code == 200
    assert ends(reader), "revoked over the users API"


def test_a_logged_out_or_expired_sessions_stream_ends(
    streams: Streams, db_settings: HubSettings, engine: Engine
) -> None:
    token = user_token(db_settings.database_url, Role.RECORDS_STAFF, username="xu")
    value = streams.log_in(token)
    reader = streams.open(cookie(value))
    origin = {"Origin": str(streams.api.http.base_url).rstrip("/")}
    out = streams.api.http.delete("/api/v1/session", headers=cookie(value) | origin)
    assert out.status_code == 204
    assert ends(reader), "logged out"

    expiring = streams.open(cookie(streams.log_in(token)))
    with engine.begin() as conn:
        conn.execute(
            sa.update(UserSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert ends(expiring), "expired"
    assert still_streams(streams, streams.open(bearer(token))), "the user's token still works"
