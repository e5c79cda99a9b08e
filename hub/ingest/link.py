"""The hub's MQTT connection. paho stays in here: the rest of the hub sees ``InboundMessage``.

The session is persistent (``mqtt_contract.session``) and acknowledgements are manual: the worker
acks a message only after the transaction that records it has committed. A packet id is only
meaningful on the connection it arrived on, so every message is stamped with a connection
generation and an ack for an older connection is skipped (the broker will deliver it again, and the
idempotent insert absorbs it).
"""

from __future__ import annotations

import functools
import logging
import struct
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from prometheus_client import Counter

from hub.core.settings import HubSettings
from hub.ingest.events import InboundMessage
from hub.metrics import HubMetrics
from mqtt_contract import topics
from mqtt_contract.session import SessionOptions, connect_async, persistent_client
from mqtt_contract.topics import TopicKind, parse_topic

log = logging.getLogger(__name__)

SUBSCRIBE_QOS = 1
RECEIPT_QOS = 1


class BrokerLink:
    def __init__(
        self,
        settings: HubSettings,
        deliver: Callable[[InboundMessage], None],
        metrics: HubMetrics,
    ) -> None:
        password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
        self._options = SessionOptions(
            client_id=settings.mqtt_client_id,
            protocol=settings.mqtt_protocol,
            username=settings.mqtt_username,
            password=password,
            session_expiry_s=settings.session_expiry_s,
            receive_maximum=settings.receive_maximum,
        )
        self._endpoint = settings.broker
        self._filters = topics.event_filters(settings.mqtt_shared_group) + (
            topics.edge_state_filters(settings.mqtt_shared_group)
        )
        self._deliver = deliver
        self._metrics = metrics
        self._received_by_kind: dict[str, Counter] = {}
        self._lock = threading.Lock()  # guards _generation against acks from the batcher
        self._generation = 0
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self._accepting = True
        self._closing = False
        self.session_present: bool | None = None
        self._client = persistent_client(self._options, manual_ack=True)
        self._client.enable_logger(logging.getLogger(f"{__name__}.paho"))
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        """Connect in the background; paho keeps reconnecting with backoff."""
        connect_async(self._client, self._endpoint, self._options)
        self._client.loop_start()

    def wait_ready(self, timeout: float) -> bool:
        """Connected and subscribed: from now on nothing published for the hub is missed."""
        return self._subscribed.wait(timeout)

    def stop_receiving(self) -> None:
        """From now on incoming messages are left unacknowledged for the next session."""
        self._accepting = False

    def close(self) -> None:
        """Disconnect cleanly; the broker keeps the session and what it queues for it."""
        self._closing = True
        self._accepting = False
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()
        self._subscribed.clear()
        self._metrics.broker_connected.set(0)

    def ack(self, messages: Sequence[InboundMessage]) -> int:
        """Acknowledge in the order received; return how many could be acknowledged."""
        done = 0
        pubacks: list[int] = []
        with self._lock:
            for message in messages:
                if message.generation != self._generation:
                    continue
                if message.qos == 1:
                    pubacks.append(message.mid)
                elif message.qos > 0:
                    self._client.ack(message.mid, message.qos)
                done += 1
            if pubacks:
                _send_pubacks(self._client, pubacks)
        return done

    def publish(self, topic: str, payload: bytes) -> bool:
        info = self._client.publish(topic, payload, qos=RECEIPT_QOS)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            log.warning("could not publish to %s: %s", topic, mqtt.error_string(info.rc))
            return False
        return True

    # paho callbacks, on paho's network thread ----------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("the broker refused the connection: %s", reason)
            return
        with self._lock:
            self._generation += 1
        self.session_present = bool(flags.session_present)
        # Subscribe on every connect: a broker killed -9 may have lost the session.
        client.subscribe([(f, SUBSCRIBE_QOS) for f in self._filters])
        self._connected.set()
        self._metrics.broker_connected.set(1)
        log.info(
            "connected to %s:%s as %s (session present: %s)",
            self._endpoint.host,
            self._endpoint.port,
            self._options.client_id,
            self.session_present,
        )

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        log.warning(
            "cannot reach the broker at %s:%s; retrying", self._endpoint.host, self._endpoint.port
        )

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        with self._lock:
            self._generation += 1
        self._connected.clear()
        self._subscribed.clear()
        self._metrics.broker_connected.set(0)
        if not self._closing:
            log.warning("disconnected from the broker (%s); reconnecting", reason)

    def _on_subscribe(
        self, _client: mqtt.Client, _userdata: Any, _mid: int, reasons: Any, _props: Any
    ) -> None:
        refused = [f for f, r in zip(self._filters, reasons, strict=False) if r.is_failure]
        for topic_filter in refused:
            log.error("the broker refused the subscription to %s", topic_filter)
        if not refused:
            log.info("subscribed to %s", ", ".join(self._filters))
            self._subscribed.set()

    def _received(self, topic: str) -> Counter:
        """The received-messages counter for this topic's kind (looked up once per kind)."""
        kind = _topic_kind(topic)
        child = self._received_by_kind.get(kind)
        if child is None:
            child = self._received_by_kind[kind] = self._metrics.messages_received.labels(kind)
        return child

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        if not self._accepting:
            return
        try:
            try:
                topic = message.topic
            except UnicodeDecodeError:
                topic = repr(message._topic)  # the broker should have refused it
            self._received(topic).inc()
            self._deliver(
                InboundMessage(
                    topic=topic,
                    payload=bytes(message.payload),
                    mid=message.mid,
                    qos=message.qos,
                    retained=bool(message.retain),
                    received_at=datetime.now(UTC),
                    generation=self._generation,
                )
            )
        except Exception:
            log.exception("could not take a message on %r; it stays unacknowledged", message)


_PUBACK = 0x40
_PUBACK_PACKET = struct.Struct("!BBH")
"""A PUBACK with success and no properties: the same two bytes after the header on MQTT 3.1.1
and 5 (MQTT 5 section 3.4.2.1), exactly what paho's own ``ack`` queues."""


def _send_pubacks(client: mqtt.Client, mids: Sequence[int]) -> None:
    """Acknowledge a committed batch with one write. paho's ``ack`` queues each PUBACK as its own
    packet, wakes its network thread and sends it with its own system call: two system calls a
    message, a visible share of the hub's CPU at the city's rate. Here the PUBACKs go as one
    queued packet through paho's own queue (so they are ordered with everything else it sends
    and dropped with the connection). Should a paho release lack that queue, each is acked the
    ordinary way."""
    queue = getattr(client, "_packet_queue", None)
    if queue is None:
        for mid in mids:
            client.ack(mid, 1)
        return
    queue(_PUBACK, b"".join(_PUBACK_PACKET.pack(_PUBACK, 2, mid) for mid in mids), 0, 0)


@functools.lru_cache(maxsize=4096)
def _topic_kind(topic: str) -> str:
    """The metric label for a topic: event, status, health, command or invalid."""
    try:
        kind: TopicKind = parse_topic(topic).kind
    except ValueError:
        return "invalid"
    return kind.value
