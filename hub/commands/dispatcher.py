"""Sends queued commands to their edges and records the edges' replies.

Every ``interval_s`` seconds (or at once after :meth:`CommandDispatcher.wake`) its thread expires
open commands past their deadline, records the replies that arrived, and publishes what is due
(``hub.commands.service.due_commands``) on ``yp/v1/{site}/cmd/request``, QoS 1, not retained:
the edge's persistent session keeps it while the edge is away. A command is ``sent`` once the
broker has acknowledged it. An unanswered command goes again when its site comes back online or
after a backoff; the edge answers a repeat from its journal without acting twice.

Replies arrive on ``yp/v1/+/reply`` (a shared subscription when the hub is configured with a
group): paho's thread only queues them. A reply is recorded only when it names an open command
of the site whose topic it came on; anything else is logged and counted, never recorded.

Like the allowlist publisher it has a connection of its own (see ``hub.org.allowlist_publisher``
for why not ingest's), found by the records, so commands created by any hub process go out.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from hub.commands.service import due_commands, expire_overdue, mark_sent, record_reply, request_for
from hub.core.db import make_engine
from hub.core.settings import HubSettings
from hub.metrics import CommandMetrics
from hub.mqtt import HubConnection, InboundMessage, PublishError, Role, session_options
from mqtt_contract import topics
from mqtt_contract.commands import MAX_ARGS_BYTES, reply_of
from mqtt_contract.topics import Command, TopicKind, parse_topic

log = logging.getLogger(__name__)

_PUBLISH_TIMEOUT_S = 10.0
MAX_REPLY_BYTES = 4 * MAX_ARGS_BYTES
"""A larger reply is dropped unread: a result is at most ``MAX_ARGS_BYTES`` as JSON."""
REPLY_QUEUE = 10_000


class CommandDispatcher:
    def __init__(
        self,
        settings: HubSettings,
        metrics: CommandMetrics,
        *,
        interval_s: float | None = None,
    ) -> None:
        self._engine = make_engine(
            settings.database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms
        )
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._metrics = metrics
        self._interval_s = interval_s or settings.command_interval_s
        self._replies: queue.Queue[InboundMessage] = queue.Queue(REPLY_QUEUE)
        self._connection = HubConnection(
            "commands",
            session_options(settings, Role.COMMANDS),
            settings.broker,
            subscriptions=[topics.reply_filter(settings.mqtt_shared_group)],
            on_message=self._on_message,
            on_connect=lambda _present: self._wake.set(),
        )
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hub-commands", daemon=True)

    def start(self) -> None:
        self._connection.start()
        self._thread.start()

    def wait_ready(self, timeout: float) -> bool:
        """Connected and subscribed to the replies."""
        return self._connection.wait_ready(timeout)

    def wake(self) -> None:
        """Look at the records now (after this process created a command)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(_PUBLISH_TIMEOUT_S + 2)
        self._connection.close()
        self._engine.dispose()

    # the connection's network thread -------------------------------------------------------

    def _on_message(self, message: InboundMessage) -> None:
        try:
            self._replies.put_nowait(message)
        except queue.Full:
            self._metrics.replies.labels("dropped").inc()
            log.warning("reply queue full: a reply from %s is dropped", message.topic)
            return
        self._wake.set()

    # our thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval_s)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self._round()
            except SQLAlchemyError as exc:
                log.warning("cannot read or write the commands now (%s); trying again", exc)
            except Exception:
                log.exception("command dispatching failed; trying again")

    def _round(self) -> None:
        self._record_replies()
        now = datetime.now(UTC)
        with self._sessions.begin() as session:
            expired = expire_overdue(session, now)
        if expired:
            self._metrics.expired.inc(expired)
            log.info("%d command(s) expired without an answer", expired)
        if self._connection.connected:
            self._publish_due(now)

    def _record_replies(self) -> None:
        while True:
            try:
                message = self._replies.get_nowait()
            except queue.Empty:
                return
            result = self._record(message)
            self._metrics.replies.labels(result).inc()
            if result != "recorded":
                log.warning("reply on %s ignored: %s", message.topic, result)

    def _record(self, message: InboundMessage) -> str:
        if len(message.payload) > MAX_REPLY_BYTES:
            return "oversized"
        try:
            topic = parse_topic(message.topic)
            if topic.kind is not TopicKind.REPLY:
                return "malformed"
            reply = reply_of(message.payload)
        except (ValueError, ValidationError):
            return "malformed"
        with self._sessions.begin() as session:
            result = record_reply(session, topic.site, reply)
        if result == "recorded":
            log.info("command %s at %s: %s", reply.id, topic.site, reply.outcome)
        return result

    def _publish_due(self, now: datetime) -> None:
        with self._sessions() as session:
            due = due_commands(session, now)
        for command in due:
            if self._stop.is_set():
                return
            request = request_for(command)
            try:
                published = self._connection.publish_and_wait(
                    topics.command(command.site_id, Command.REQUEST),
                    request.to_bytes(),
                    timeout=_PUBLISH_TIMEOUT_S,
                    qos=1,
                )
            except PublishError as exc:
                log.warning("command %s not published (%s); will retry", command.id, exc)
                return
            if not published:
                return
            with self._sessions.begin() as session:
                mark_sent(session, command.id, datetime.now(UTC))
            self._metrics.published.labels(command.op).inc()
            log.info(
                "command %s (%s) sent to %s, attempt %d",
                command.id,
                command.op,
                command.site_id,
                command.attempts + 1,
            )
