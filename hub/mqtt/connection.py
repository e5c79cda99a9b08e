"""One hub connection to the broker: a paho client wrapped at this boundary (as aiomqtt wraps it),
so the rest of the hub sees ``InboundMessage``, plain callbacks and booleans.

The session is persistent (``mqtt_contract.session``). With ``manual_ack`` a message is
acknowledged only when the owner says so (ingest: after its commit). A packet id is only
meaningful on the connection it arrived on, so every message is stamped with a connection
generation and an ack for an older connection is skipped (the broker delivers it again).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt

from hub.mqtt.message import InboundMessage
from hub.mqtt.paho_adapter import connect_async, persistent_client, send_pubacks, topic_of
from mqtt_contract.session import BrokerEndpoint, SessionOptions
from mqtt_contract.tls import BrokerTLSContext, handshake_failure

log = logging.getLogger(__name__)


class PublishError(Exception):
    """paho could not send the message (not connected, queue full, connection lost)."""


class HubConnection:
    def __init__(
        self,
        name: str,
        options: SessionOptions,
        endpoint: BrokerEndpoint,
        *,
        subscriptions: Sequence[str] = (),
        subscribe_qos: int = 1,
        manual_ack: bool = False,
        on_message: Callable[[InboundMessage], None] | None = None,
        on_connect: Callable[[bool], None] | None = None,
        on_disconnect: Callable[[], None] | None = None,
    ) -> None:
        """``name`` says which connection in the logs. ``subscriptions`` are subscribed on every
        connect (a broker killed -9 may have lost the session). ``on_connect`` gets whether the
        broker still had the session; the callbacks run on paho's network thread."""
        self.name = name
        self.options = options
        self.endpoint = endpoint
        self._filters = list(subscriptions)
        self._qos = subscribe_qos
        self._on_message_cb = on_message
        self._on_connect_cb = on_connect
        self._on_disconnect_cb = on_disconnect
        self._lock = threading.Lock()  # guards _generation against acks from another thread
        self._generation = 0
        self._connected = threading.Event()
        self._ready = threading.Event()
        self._accepting = True
        self._closing = False
        self.session_present: bool | None = None
        self._tls: BrokerTLSContext | None = None
        self.refused: str | None = None
        """Why the broker refused the last CONNECT (e.g. "Not authorized"); ``None`` once in."""
        self._client = persistent_client(options, manual_ack=manual_ack)
        self._client.enable_logger(logging.getLogger(f"{__name__}.{name}.paho"))
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
        self._tls = connect_async(self._client, self.endpoint, self.options)
        self._client.loop_start()

    def wait_ready(self, timeout: float) -> bool:
        """Connected and subscribed: from now on nothing published for the hub is missed."""
        return self._ready.wait(timeout)

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
        self._ready.clear()

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
                send_pubacks(self._client, pubacks)
        return done

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> bool:
        """Queue a message; ``False`` (logged) when paho refuses it now."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            log.warning("could not publish to %s: %s", topic, mqtt.error_string(info.rc))
            return False
        return True

    def publish_and_wait(
        self, topic: str, payload: bytes, *, timeout: float, qos: int = 1, retain: bool = False
    ) -> bool:
        """Publish and wait until the broker has acknowledged it: ``False`` if it has not within
        ``timeout`` seconds, :class:`PublishError` if it cannot go at all."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        try:
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError) as exc:
            raise PublishError(str(exc)) from exc
        return info.is_published()

    # paho callbacks, on paho's network thread ----------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            self.refused = str(reason)
            log.error("the broker refused the %s connection: %s", self.name, reason)
            return
        self.refused = None
        with self._lock:
            self._generation += 1
        self.session_present = bool(flags.session_present)
        if self._filters:
            client.subscribe([(f, self._qos) for f in self._filters])
        self._connected.set()
        if not self._filters:
            self._ready.set()
        if self._on_connect_cb is not None:
            self._on_connect_cb(self.session_present)
        log.info(
            "%s: connected to %s:%s as %s (session present: %s)",
            self.name,
            self.endpoint.host,
            self.endpoint.port,
            self.options.client_id,
            self.session_present,
        )

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        log.warning(
            "%s: cannot connect to the broker at %s: %s; retrying",
            self.name,
            self.endpoint.url,
            handshake_failure(self._tls) or "not reachable",
        )

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        with self._lock:
            self._generation += 1
        self._connected.clear()
        self._ready.clear()
        if self._on_disconnect_cb is not None:
            self._on_disconnect_cb()
        if not self._closing:
            log.warning("%s: disconnected from the broker (%s); reconnecting", self.name, reason)

    def _on_subscribe(
        self, _client: mqtt.Client, _userdata: Any, _mid: int, reasons: Any, _props: Any
    ) -> None:
        refused = [f for f, r in zip(self._filters, reasons, strict=False) if r.is_failure]
        for topic_filter in refused:
            log.error("the broker refused the subscription to %s", topic_filter)
        if not refused:
            log.info("subscribed to %s", ", ".join(self._filters))
            self._ready.set()

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        if not self._accepting or self._on_message_cb is None:
            return
        try:
            self._on_message_cb(
                InboundMessage(
                    topic=topic_of(message),
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
