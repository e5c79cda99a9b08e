"""Drains the outbox to the broker and takes the hub's receipts back.

Publishing is QoS 1 on a persistent session with a bounded in-flight window (paho refuses a flood
with ``MQTT_ERR_QUEUE_SIZE``, so we apply back-pressure ourselves). A PUBACK only frees a window
slot; an event is forgotten only when the hub's receipt names it. What stays unreceipted past
``resend_after_s`` is sent again, and everything pending is sent again after each reconnect; the
hub's idempotent inserts absorb the duplicates.

All outbox work happens on this class's own thread; paho's callbacks only hand things over.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from pydantic import ValidationError

from edge.mqtt_session import connect_async, persistent_client
from edge.outbox import Outbox
from mqtt_contract import topics
from mqtt_contract.models import Allowlist, CapacityAlert, Receipt, Status, receipt_of
from mqtt_contract.session import BrokerEndpoint, SessionOptions
from mqtt_contract.tls import BrokerTLSContext, handshake_failure
from mqtt_contract.topics import Command, TopicKind, parse_topic

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PublisherConfig:
    site: str
    endpoint: BrokerEndpoint
    session: SessionOptions
    resend_after_s: float = 30.0
    inflight_window: int = 200
    retention_s: float = 86_400.0


class Publisher:
    def __init__(
        self,
        config: PublisherConfig,
        outbox: Outbox,
        *,
        online_status: Status,
        offline_status: Status,
        heartbeat: Callable[[], bytes],
        heartbeat_interval_s: float,
        on_allowlist: Callable[[Allowlist], object] | None = None,
        on_request: Callable[[bytes], object] | None = None,
        on_alert: Callable[[CapacityAlert], object] | None = None,
    ) -> None:
        self._config = config
        self._outbox = outbox
        self._online = online_status
        self._heartbeat = heartbeat
        self._heartbeat_interval_s = heartbeat_interval_s
        self._on_allowlist = on_allowlist  # called on paho's thread: keep it short
        self._on_request = on_request  # likewise: it only queues the request
        self._on_alert = on_alert  # the venue sign's capacity alerts; paho's thread too
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._receipts: queue.SimpleQueue[Receipt] = queue.SimpleQueue()
        self._connected = threading.Event()
        self._reconnected = threading.Event()
        self._inflight: dict[int, int] = {}  # paho mid -> outbox seq, guarded by _inflight_lock
        self._acked_early: set[int] = set()  # PUBACKs that beat us to recording the mid
        self._inflight_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._run, name=f"publisher-{config.site}", daemon=True
        )
        self._tick = time.monotonic()  # each turn of the loop: how the watchdog sees it alive

        self._client = persistent_client(config.session)
        self._client.max_inflight_messages_set(config.inflight_window)
        self._client.will_set(
            topics.status(config.site), offline_status.to_bytes(), qos=1, retain=True
        )
        self._offline_payload = offline_status.to_bytes()
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._tls: BrokerTLSContext | None = None
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._client.on_message = self._on_message

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def idle_s(self) -> float:
        """Seconds since the loop last turned (it turns at least every 0.5 s when well);
        ``inf`` when its thread has ended."""
        if not self._thread.is_alive():
            return float("inf")
        return time.monotonic() - self._tick

    def start(self) -> None:
        self._tls = connect_async(self._client, self._config.endpoint, self._config.session)
        self._client.loop_start()
        self._thread.start()

    def wake(self) -> None:
        """Called after an append: there is something to send."""
        self._wake.set()

    def reply(self, payload: bytes, timeout: float = 5.0) -> bool:
        """Publish a command reply (QoS 1) and wait for the broker's PUBACK; ``False`` when it
        did not come (the hub sends the request again and the journal answers it)."""
        info = self._client.publish(topics.reply(self._config.site), payload, qos=1)
        try:
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError) as exc:
            log.warning("command reply not published now: %s", exc)
            return False
        return info.is_published()

    def refresh_allowlist(self) -> None:
        """Subscribe to the downlink again: the broker sends its retained messages (the
        allowlist) once more. The same filter replaces the subscription, so nothing arrives
        twice afterwards."""
        self._client.subscribe(topics.command_filter(self._config.site), qos=1)

    def stop(self, timeout: float = 5.0) -> None:
        """Say offline (a clean disconnect does not fire the will), then disconnect."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        if self._connected.is_set():
            info = self._client.publish(
                topics.status(self._config.site), self._offline_payload, qos=1, retain=True
            )
            try:
                info.wait_for_publish(timeout=2)
            except RuntimeError:
                log.warning("could not publish offline status before disconnecting")
        self._client.disconnect()
        self._client.loop_stop()

    # paho callbacks: network thread, hand over only -------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("broker refused the connection: %s", reason)
            return
        client.subscribe(topics.command_filter(self._config.site), qos=1)
        client.publish(
            topics.status(self._config.site), self._online.to_bytes(), qos=1, retain=True
        )
        with self._inflight_lock:
            self._inflight.clear()
            self._acked_early.clear()
        self._reconnected.set()
        self._connected.set()
        self._wake.set()
        log.info("connected to the broker as %s", self._config.session.client_id)

    def _on_connect_fail(self, _c: mqtt.Client, _u: Any) -> None:
        log.warning(
            "cannot connect to the broker at %s: %s; retrying",
            self._config.endpoint.url,
            handshake_failure(self._tls) or "not reachable",
        )

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._connected.clear()
        log.warning("disconnected from the broker: %s", reason)

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, _r: Any, _p: Any) -> None:
        with self._inflight_lock:
            if self._inflight.pop(mid, None) is None:
                self._acked_early.add(mid)
        self._wake.set()

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        try:
            topic = parse_topic(message.topic)
            if topic.kind is not TopicKind.COMMAND or topic.site != self._config.site:
                raise ValueError(f"not a downlink for {self._config.site}")
            if topic.command is Command.RECEIPT:
                self._receipts.put(receipt_of(message.payload))
                self._wake.set()
            elif topic.command is Command.ALLOWLIST and self._on_allowlist is not None:
                self._on_allowlist(Allowlist.model_validate_json(message.payload))
            elif topic.command is Command.REQUEST and self._on_request is not None:
                self._on_request(bytes(message.payload))
            elif topic.command is Command.ALERT:
                self._alert(CapacityAlert.model_validate_json(message.payload))
        except (ValueError, ValidationError) as exc:
            log.warning("ignoring downlink on %s: %s", message.topic, exc)

    def _alert(self, alert: CapacityAlert) -> None:
        if self._on_alert is None:
            log.info("capacity alert %s at %s: nothing here shows alerts", alert.state, alert.venue)
            return
        self._on_alert(alert)

    # the publisher thread -----------------------------------------------------------------------

    def _run(self) -> None:
        next_heartbeat = time.monotonic()
        next_purge = time.monotonic()
        while not self._stop.is_set():
            self._tick = time.monotonic()
            self._wake.wait(timeout=0.5)
            self._wake.clear()
            try:
                self._apply_receipts()
                if not self._connected.is_set():
                    continue
                if self._reconnected.is_set():
                    self._reconnected.clear()
                    self._outbox.mark_unsent()
                self._send_due()
                now = time.monotonic()
                if now >= next_heartbeat:
                    next_heartbeat = now + self._heartbeat_interval_s
                    self._client.publish(topics.health(self._config.site), self._heartbeat(), qos=0)
                if now >= next_purge:
                    next_purge = now + 60
                    self._outbox.purge(self._config.retention_s)
            except Exception:
                log.exception("publisher loop failed; retrying")
                self._stop.wait(1.0)

    def _apply_receipts(self) -> None:
        while True:
            try:
                receipt = self._receipts.get_nowait()
            except queue.Empty:
                return
            done = self._outbox.receipt((r.boot, r.first, r.last) for r in receipt.ranges)
            log.debug("receipt for %d events", done)

    def _send_due(self) -> None:
        with self._inflight_lock:
            room = self._config.inflight_window - len(self._inflight)
            inflight_seqs = set(self._inflight.values())
        if room <= 0:
            return
        due = self._outbox.due(room, self._config.resend_after_s, exclude=inflight_seqs)
        sent: list[int] = []
        for event in due:
            info = self._client.publish(event.topic, event.payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                log.debug("publish refused (%s); will retry", mqtt.error_string(info.rc))
                break
            # Never hold our lock across publish(): paho calls on_publish under its own lock.
            with self._inflight_lock:
                if info.mid in self._acked_early:
                    self._acked_early.discard(info.mid)
                else:
                    self._inflight[info.mid] = event.seq
            sent.append(event.seq)
        if sent:
            self._outbox.mark_sent(sent)
        if len(due) == room:
            self._wake.set()  # more may be waiting
