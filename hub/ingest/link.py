"""Ingest's broker connection: the shared subscription to every uplink topic, on the hub's MQTT
module (``hub.mqtt``), with its metrics. Messages are acknowledged only when the worker says so,
after the transaction that records them has committed."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from prometheus_client import Counter

from hub.core.settings import HubSettings
from hub.ingest.events import InboundMessage
from hub.metrics import HubMetrics
from hub.mqtt import HubConnection, Role, session_options
from mqtt_contract import topics
from mqtt_contract.topics import TopicKind, parse_topic

SUBSCRIBE_QOS = 1
RECEIPT_QOS = 1


class BrokerLink:
    def __init__(
        self,
        settings: HubSettings,
        deliver: Callable[[InboundMessage], None],
        metrics: HubMetrics,
    ) -> None:
        self._deliver = deliver
        self._metrics = metrics
        self._received_by_kind: dict[str, Counter] = {}
        self._connection = HubConnection(
            "ingest",
            session_options(settings, Role.INGEST),
            settings.broker,
            subscriptions=topics.event_filters(settings.mqtt_shared_group)
            + topics.edge_state_filters(settings.mqtt_shared_group),
            subscribe_qos=SUBSCRIBE_QOS,
            manual_ack=True,
            on_message=self._on_message,
            on_connect=self._on_connect,
            on_disconnect=self._on_disconnect,
        )

    @property
    def connected(self) -> bool:
        return self._connection.connected

    @property
    def session_present(self) -> bool | None:
        return self._connection.session_present

    def start(self) -> None:
        self._connection.start()

    def wait_ready(self, timeout: float) -> bool:
        return self._connection.wait_ready(timeout)

    def stop_receiving(self) -> None:
        self._connection.stop_receiving()

    def close(self) -> None:
        self._connection.close()
        self._metrics.broker_connected.set(0)

    def ack(self, messages: Sequence[InboundMessage]) -> int:
        return self._connection.ack(messages)

    def publish(self, topic: str, payload: bytes) -> bool:
        return self._connection.publish(topic, payload, qos=RECEIPT_QOS)

    # on the connection's network thread -----------------------------------------------------

    def _on_connect(self, _session_present: bool) -> None:
        self._metrics.broker_connected.set(1)

    def _on_disconnect(self) -> None:
        self._metrics.broker_connected.set(0)

    def _on_message(self, message: InboundMessage) -> None:
        self._received(message.topic).inc()
        self._deliver(message)

    def _received(self, topic: str) -> Counter:
        """The received-messages counter for this topic's kind (looked up once per kind)."""
        kind = _topic_kind(topic)
        child = self._received_by_kind.get(kind)
        if child is None:
            child = self._received_by_kind[kind] = self._metrics.messages_received.labels(kind)
        return child


@functools.lru_cache(maxsize=4096)
def _topic_kind(topic: str) -> str:
    """The metric label for a topic: event, status, health, command or invalid."""
    try:
        kind: TopicKind = parse_topic(topic).kind
    except ValueError:
        return "invalid"
    return kind.value
