"""The receipt path on its own: why a receipt reaches the edge about 40 ms after the commit.

After committing a batch the hub sends, on one connection and back to back, the PUBACK of each
event and then the site's receipt. paho leaves Nagle's algorithm on, so the kernel holds the
receipt (a small segment) until the PUBACK's segment is acknowledged, and the broker's kernel
delays that acknowledgement (Linux: up to about 40 ms). This measures a responder that does the
same (take a message, wait ``commit_s``, acknowledge it, publish a reply), once with paho's default
socket and once with ``TCP_NODELAY``: message published → reply received, in milliseconds.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt

from benchmarks._mqtt import BenchClient
from benchmarks._programs import BenchmarkError
from benchmarks._services import Account
from mqtt_contract import topics
from mqtt_contract.topics import Command, EventKind

SITE = "bench-echo"
DEVICE = "echo"


def measure(
    broker_url: str,
    account: Account,
    *,
    count: int,
    rate: float,
    tcp_nodelay: bool,
    commit_s: float = 0.005,
) -> list[float]:
    request_topic = topics.event(SITE, DEVICE, EventKind.CHECKIN)
    reply_topic = topics.command(SITE, Command.RECEIPT)
    suffix = "nodelay" if tcp_nodelay else "default"
    inbox: queue.SimpleQueue[mqtt.MQTTMessage | None] = queue.SimpleQueue()
    replies: dict[int, float] = {}
    all_in = threading.Event()

    def on_request(_c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        inbox.put(message)  # the hub, too, commits and acknowledges off paho's thread

    def on_reply(_c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        replies[int(message.payload)] = time.time()
        if len(replies) >= count:
            all_in.set()

    responder = BenchClient(
        broker_url,
        account,
        f"bench-echo-{suffix}",
        on_message=on_request,
        manual_ack=True,
        tcp_nodelay=tcp_nodelay,
    )
    watcher = BenchClient(broker_url, account, f"bench-echo-watch-{suffix}", on_message=on_reply)
    sender = BenchClient(broker_url, account, f"bench-echo-send-{suffix}")

    def respond() -> None:
        while (message := inbox.get()) is not None:
            time.sleep(commit_s)
            responder.client.ack(message.mid, message.qos)
            responder.client.publish(reply_topic, message.payload, qos=1)

    worker = threading.Thread(target=respond, name="echo-responder", daemon=True)
    sent_at: list[float] = []
    try:
        for client, topic in ((responder, request_topic), (watcher, reply_topic)):
            client.connect()
            client.subscribe([topic])
        sender.connect()
        worker.start()
        start = time.monotonic() + 0.2
        for i in range(count):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent_at.append(time.time())
            sender.client.publish(request_topic, str(i).encode(), qos=1)
        if not all_in.wait(30):
            raise BenchmarkError(f"the receipt path got {len(replies)} of {count} replies")
    finally:
        inbox.put(None)
        for client in (sender, watcher, responder):
            client.close()
    return [(replies[i] - sent_at[i]) * 1000 for i in range(count)]
