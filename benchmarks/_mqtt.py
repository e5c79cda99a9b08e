"""The benchmark's own MQTT clients: paho stays in here.

Every client is on a persistent MQTT 5 session (``mqtt_contract.session``), so a session registered
once keeps a queue that a later connect with the same client id drains. Each client id is used by
one client only: two clients with the same id take the session from each other in a loop.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import paho.mqtt.client as mqtt

from benchmarks._programs import BenchmarkError
from benchmarks._services import Account
from edge.mqtt_session import connect_async, persistent_client
from mqtt_contract import topics
from mqtt_contract.models import CheckinData, CheckinEvent
from mqtt_contract.session import BrokerEndpoint, SessionOptions
from mqtt_contract.topics import EventKind

log = logging.getLogger(__name__)

OnMessage = Callable[[mqtt.Client, Any, mqtt.MQTTMessage], None]
Message = tuple[str, bytes]
"""(topic, payload)"""


def checkin_message(site: str, device: str, boot: UUID, seq: int, card_sealed: str) -> Message:
    """A valid check-in as an edge publishes it (its card sealed to the hub): topic and payload."""
    event = CheckinEvent(
        id=uuid.uuid4(),
        site=site,
        device=device,
        boot=boot,
        seq=seq,
        ts=datetime.now(UTC),
        data=CheckinData(card_sealed=card_sealed),
    )
    return topics.event(site, device, EventKind.CHECKIN), event.to_bytes()


PUBLISH_WINDOW = 200
"""QoS 1 messages in flight at once: paho refuses a flood, so publishers wait on the oldest."""


class BenchClient:
    def __init__(
        self,
        broker_url: str,
        account: Account,
        client_id: str,
        *,
        on_message: OnMessage | None = None,
        manual_ack: bool = False,
        receive_maximum: int | None = None,
        tcp_nodelay: bool = False,
    ) -> None:
        self._endpoint = BrokerEndpoint.parse(broker_url)
        self._options = SessionOptions(
            client_id=client_id,
            username=account[0],
            password=account[1],
            receive_maximum=receive_maximum,
        )
        self.client = persistent_client(self._options, manual_ack=manual_ack)
        self.client.max_inflight_messages_set(PUBLISH_WINDOW)
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self._refused: list[str] = []
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        if on_message is not None:
            self.client.on_message = on_message
        if tcp_nodelay:  # paho leaves Nagle's algorithm on
            self.client.on_socket_open = _set_tcp_nodelay

    def connect(self, timeout: float = 10.0) -> None:
        connect_async(self.client, self._endpoint, self._options)
        self.client.loop_start()
        if not self._connected.wait(timeout):
            self.close()
            raise BenchmarkError(f"{self._options.client_id}: no CONNACK within {timeout} s")

    def subscribe(self, filters: list[str], timeout: float = 10.0) -> None:
        self._subscribed.clear()
        self.client.subscribe([(f, 1) for f in filters])
        if not self._subscribed.wait(timeout) or self._refused:
            raise BenchmarkError(f"{self._options.client_id}: subscription refused {self._refused}")

    def publish_all(self, messages: Iterable[Message], timeout: float = 60.0) -> int:
        """Publish at QoS 1 with at most ``PUBLISH_WINDOW`` unacknowledged; return once the
        broker has acknowledged every one."""
        window: deque[mqtt.MQTTMessageInfo] = deque()
        deadline = time.monotonic() + timeout
        sent = 0
        for topic, payload in messages:
            while True:
                info = self.client.publish(topic, payload, qos=1)
                if info.rc == mqtt.MQTT_ERR_SUCCESS:
                    break
                if info.rc != mqtt.MQTT_ERR_QUEUE_SIZE or not window:
                    raise BenchmarkError(f"publish to {topic}: {mqtt.error_string(info.rc)}")
                self._wait_published(window.popleft(), deadline)
            window.append(info)
            sent += 1
            if len(window) >= PUBLISH_WINDOW:
                self._wait_published(window.popleft(), deadline)
        while window:
            self._wait_published(window.popleft(), deadline)
        return sent

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    @staticmethod
    def _wait_published(info: mqtt.MQTTMessageInfo, deadline: float) -> None:
        info.wait_for_publish(max(0.0, deadline - time.monotonic()))
        if not info.is_published():
            raise BenchmarkError("the broker did not acknowledge a publish in time")

    def _on_connect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("%s: the broker refused the connection: %s", self._options.client_id, reason)
            return
        self._connected.set()

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _m: int, reasons: Any, _p: Any) -> None:
        self._refused = [str(r) for r in reasons if r.is_failure]
        self._subscribed.set()


def _set_tcp_nodelay(_c: mqtt.Client, _u: Any, sock: Any) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
