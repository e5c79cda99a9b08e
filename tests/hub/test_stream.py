"""``/api/v1/stream`` over a real server: hello, events with ids, resume, keep-alive, shutdown,
and committed MQTT messages arriving on it once each."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI

from hub.api import create_app
from hub.api.app import close_live_streams
from hub.core.settings import HubSettings
from hub.live import LiveEvent, LiveFeed, LiveTopic
from mqtt_contract import topics
from tests.hub.support import (
    ApiServer,
    EdgeClient,
    StartWorker,
    checkin,
    event_topic,
    health,
    wait_until,
)


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
    app = create_app(hub_settings, ingest=worker, live=feed)
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
        assert [m["event_id"] for m in got["checkins"]] == [str(tap.id)]
        assert got["checkins"][0]["card_hash"] == tap.data.card_hash
        assert got["devices"][0]["site_id"] == "centre-01"
        assert got["dead_letters"][0]["reason_kind"] == "not_json"
    finally:
        _stop(app, server)
