"""Notifications end to end against real receivers (a local HTTP server for the robots and
webhooks, aiosmtpd for e-mail): one message per alert however often it is seen and however many
hub processes see it, retries until a receiver comes back, a recorded failure when it never
does, quiet hours and the digest, and ingest unslowed by a receiver that hangs."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time as _time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from hub.auth import Role
from hub.commands.models import EdgeCommand
from hub.composition import build_store
from hub.core.settings import HubSettings
from hub.ingest.models import DeadLetter, Device, Site
from hub.notify.events import EventKind, NotifyEvent
from hub.notify.guard import UnsafeTargetError, allowed_hosts, check_webhook_url
from hub.notify.notifier import Notifier
from hub.org.calendar import CITY_TZ
from hub.org.models import Unit
from hub.venues.occupancy import GateReading
from hub.venues.service import OccupancyService
from tests.hub.notify.receivers import (
    DINGTALK_SECRET,
    Mailbox,
    Robots,
    free_port,
    start_robots,
)
from tests.hub.notify.support import Clock, subscriber
from tests.hub.support import Db, StartWorker, checkin, wait_until
from tests.hub.venues.support import EDGE_BOOT, T0, counter_record, register_venue

HOOK_SECRET = "hook-secret-0123456789"


def gate_reading(seq: int, count_in: int, count_out: int, *, at: datetime) -> GateReading:
    return GateReading("gate-1", 1, EDGE_BOOT, seq, at, count_in, count_out)


@pytest.fixture(scope="module")
def robots() -> Iterator[Robots]:
    r = start_robots()
    yield r
    r.close()


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    m = Mailbox()
    yield m
    m.close()


def notify_settings(settings: HubSettings, mailbox: Mailbox, **update: object) -> HubSettings:
    return settings.model_copy(
        update={
            "notify_webhook_hosts": "127.0.0.1",
            "smtp_host": "127.0.0.1",
            "smtp_port": mailbox.port,
            "smtp_from": "hub@example.org",
            "smtp_starttls": False,
            "notify_poll_s": 0.05,
            "notify_backoff_s": 0.05,
            "notify_backoff_max_s": 0.2,
            "notify_timeout_s": 5.0,
            **update,
        }
    )


def deliveries(engine: Engine) -> list[tuple[str, str, int, str | None]]:
    with engine.connect() as conn:
        return [
            (r.kind, r.state, r.attempts, r.answer)
            for r in conn.execute(
                text(
                    "SELECT n.kind, d.state, d.attempts, d.answer FROM notification_deliveries d "
                    "JOIN notifications n ON n.id = d.notification_id ORDER BY d.id"
                )
            )
        ]


def test_a_capacity_alert_notifies_once_and_its_clearing_once(
    engine: Engine, db_settings: HubSettings, robots: Robots, mailbox: Mailbox
) -> None:
    register_venue(engine, "venue-n1", capacity=10, threshold_pct=90.0, unit="体育中心")
    register_venue(engine, "venue-n2", capacity=10, unit="别的单位")
    with Session(engine) as db:
        units = {name: id_ for name, id_ in db.execute(select(Unit.name, Unit.id))}
    tag = uuid.uuid4().hex[:8]  # this run's messages at the module's receivers
    ding = f"{robots.url}/dingtalk?access_token=tok-{tag}"
    subscriber(
        engine,
        Role.OPERATOR,
        [("dingtalk", ding, DINGTALK_SECRET), ("email", f"ops-{tag}@example.org", None)],
    )
    wecom = f"{robots.url}/wecom?key=mine-{tag}"
    subscriber(engine, Role.VENUE_MANAGER, [("wecom", wecom, None)], unit=units["体育中心"])
    others = f"{robots.url}/wecom?key=other-{tag}"
    subscriber(engine, Role.VENUE_MANAGER, [("wecom", others, None)], unit=units["别的单位"])

    clock = Clock(T0)
    service = OccupancyService(
        engine, CollectorRegistry(), publish=lambda _t, _p: True, clock=clock
    )
    store = build_store(engine)
    seq = itertools.count(1)

    def occupancy(n: int) -> None:
        clock.now += timedelta(seconds=1)
        records = [counter_record("venue-n1", gate_reading(next(seq), 100 + n, 100, at=clock.now))]
        store.write(records)
        service.after_commit(records)

    settings = notify_settings(db_settings, mailbox)
    # two hub processes watching the same tables
    hubs = [Notifier(engine, settings, CollectorRegistry(), clock=clock) for _ in range(2)]
    for hub in hubs:
        hub.start()
    try:

        def at(path: str, token: str) -> list[dict[str, object]]:
            return [
                r.body
                for r in robots.at(path)
                if token in r.query.get("access_token", r.query.get("key", ""))
            ]

        def mails() -> list[str]:
            return [
                str(m["Subject"]) for m in mailbox.received() if m["To"] == f"ops-{tag}@example.org"
            ]

        occupancy(0)
        for n in (5, 9, 8, 9, 8, 9, 10):  # hovers at the threshold: one open alert
            occupancy(n)
        wait_until(
            lambda: len(at("/dingtalk", tag)) and mails() and at("/wecom", f"mine-{tag}"),
            what="the alert's messages",
        )
        for hub in hubs:  # more turns of both: nothing new
            hub.turn()
            hub.turn()
        (raised,) = at("/dingtalk", tag)
        assert "venue-n1" in str(raised["markdown"])
        assert "人数预警" in str(raised["markdown"])
        assert len(mails()) == 1
        assert "人数预警" in mails()[0]
        assert len(at("/wecom", f"mine-{tag}")) == 1
        assert [r.problems for r in robots.at("/dingtalk") if tag in r.query["access_token"]] == [
            []
        ]

        occupancy(7)  # below the threshold less the hysteresis: cleared
        wait_until(
            lambda: (
                len(at("/dingtalk", tag)) == 2
                and len(mails()) == 2
                and len(at("/wecom", f"mine-{tag}")) == 2
            ),
            what="the clearing",
        )
        for hub in hubs:
            hub.turn()
        assert "预警解除" in str(at("/dingtalk", tag)[1]["markdown"])
        assert len(at("/dingtalk", tag)) == 2
        assert len(mails()) == 2
        assert len(at("/wecom", f"mine-{tag}")) == 2
        assert at("/wecom", f"other-{tag}") == [], "another unit's manager hears nothing"
        assert all(
            r.problems == [] for r in robots.at("/dingtalk") if tag in r.query["access_token"]
        )
    finally:
        for hub in hubs:
            hub.stop()
    assert {(k, s) for k, s, _, _ in deliveries(engine)} == {("capacity_alert", "sent")}
    assert len(deliveries(engine)) == 6  # 2 messages x (DingTalk, e-mail, WeCom)
    sent = sum(h.metrics.sent.labels("dingtalk")._value.get() for h in hubs)
    assert sent == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_receiver_down_gets_it_when_back_and_one_answering_500_ends_failed(
    engine: Engine, db_settings: HubSettings, mailbox: Mailbox, robots: Robots
) -> None:
    port = free_port()
    _, (down, broken) = subscriber(
        engine,
        Role.OPERATOR,
        [
            ("webhook", f"http://127.0.0.1:{port}/hook", HOOK_SECRET),
            ("webhook", f"{robots.url}/fail", None),
        ],
        events=(EventKind.COMMAND_FAILED.value,),
    )
    notifier = Notifier(
        engine, notify_settings(db_settings, mailbox, notify_max_attempts=4), CollectorRegistry()
    )
    notifier.emit(
        NotifyEvent(
            kind="command_failed",
            key=str(uuid.uuid4()),
            title="指令失败",
            body="restart",
            at=datetime.now(UTC),
        )
    )

    def state(channel: int) -> tuple[str, int, str | None]:
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT state, attempts, answer FROM notification_deliveries WHERE channel_id = :c"
                ),
                {"c": channel},
            ).one()
        return row.state, row.attempts, row.answer

    def turned_until(channel: int, done: object) -> None:
        deadline = _time.monotonic() + 20
        while not done(state(channel)):  # type: ignore[operator]
            assert _time.monotonic() < deadline, state(channel)
            notifier.turn()
            _time.sleep(0.01)

    notifier.turn()  # records the emitted event and tries at once
    turned_until(down, lambda s: s[1] >= 2)  # refused twice while down
    assert state(down)[0] == "pending"
    assert "ConnectError" in str(state(down)[2])
    back = start_robots(port)
    try:
        turned_until(down, lambda s: s[0] == "sent")
        (hook,) = back.at("/hook")
        raw = json.dumps(hook.body, ensure_ascii=False).encode()
        assert hook.body["kind"] == "command_failed"
        stamp = hook.headers["X-Community-Timestamp"]
        expected = hmac.new(HOOK_SECRET.encode(), stamp.encode() + b"." + raw, hashlib.sha256)
        assert hook.headers["X-Community-Signature"] == "sha256=" + expected.hexdigest()
    finally:
        back.close()
    turned_until(broken, lambda s: s[0] != "pending")
    assert state(broken)[:2] == ("failed", 4)
    assert "HTTP 500" in str(state(broken)[2])
    assert "receiver broken" in str(state(broken)[2])
    m = notifier.metrics
    assert m.failed.labels("webhook")._value.get() == 1
    assert m.sent.labels("webhook")._value.get() == 1


def city(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=CITY_TZ).astimezone(UTC)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_quiet_hours_hold_messages_and_the_digest_gathers_them(
    engine: Engine, db_settings: HubSettings, mailbox: Mailbox, robots: Robots
) -> None:
    tag = uuid.uuid4().hex[:8]
    kinds = (EventKind.SERVICE_REQUEST_OVERDUE.value,)
    subscriber(
        engine,
        Role.OPERATOR,
        [("wecom", f"{robots.url}/wecom?key=quiet-{tag}", None)],
        events=kinds,
        quiet=(time(22, 0), time(7, 0)),
    )
    subscriber(
        engine,
        Role.OPERATOR,
        [("dingtalk", f"{robots.url}/dingtalk?access_token=dg-{tag}", DINGTALK_SECRET)],
        events=kinds,
        digest_at=time(8, 0),
    )
    clock = Clock(city(3, 23))
    notifier = Notifier(
        engine, notify_settings(db_settings, mailbox), CollectorRegistry(), clock=clock
    )

    def overdue(n: int, severity: str = "warning") -> NotifyEvent:
        return NotifyEvent(
            kind="service_request_overdue",
            key=f"{tag}-{n}",
            title=f"服务事项 {n} 已逾期",
            body="请尽快处理",
            at=clock.now,
            severity=severity,
        )

    def quiet() -> list[str]:
        return [
            str(r.body["markdown"]) for r in robots.at("/wecom") if r.query["key"] == f"quiet-{tag}"
        ]

    def digests() -> list[str]:
        return [
            str(r.body["markdown"])
            for r in robots.at("/dingtalk")
            if r.query["access_token"] == f"dg-{tag}"
        ]

    for n in (1, 2, 3):
        notifier.emit(overdue(n))
    notifier.emit(overdue(4, "critical"))
    notifier.turn()
    notifier.turn()
    assert len(quiet()) == 1, "only the critical one at night"
    assert "服务事项 4" in quiet()[0]
    assert digests() == []
    clock.now = city(4, 7, 1)
    notifier.turn()
    assert len(quiet()) == 4, "held until the quiet hours end"
    assert digests() == [], "the digest waits for 08:00"
    clock.now = city(4, 8, 0)
    notifier.turn()
    notifier.turn()
    (digest,) = digests()
    assert all(f"服务事项 {n} 已逾期" in digest for n in (1, 2, 3, 4))
    assert "每日汇总" in digest
    assert all(
        r.problems == [] for r in robots.at("/dingtalk") if r.query["access_token"] == f"dg-{tag}"
    )


def test_a_hanging_receiver_does_not_slow_ingest(
    start_worker: StartWorker, edge: object, hub_settings: HubSettings, mailbox: Mailbox, db: Db
) -> None:
    robots = start_robots()
    try:
        settings = notify_settings(hub_settings, mailbox, notify_timeout_s=60.0)
        worker = start_worker(settings)
        assert worker.notifier is not None
        subscriber(
            worker.worker.engine,
            Role.OPERATOR,
            [("webhook", f"{robots.url}/hang", None)],
            events=(EventKind.SERVICE_REQUEST_OVERDUE.value,),
        )
        worker.notifier.emit(
            NotifyEvent(
                kind="service_request_overdue",
                key="hang-1",
                title="逾期",
                body="x",
                at=datetime.now(UTC),
            )
        )
        assert robots.hanging.wait(10), "the notifier is inside its call to the receiver"
        centre = edge("centre-01")  # type: ignore[operator]
        centre.publish_events([checkin(seq) for seq in range(1, 51)])
        wait_until(lambda: db.count("checkins") == 50, what="ingest while the receiver hangs")
        assert not robots.release.is_set()
        assert len(robots.at("/hang")) == 1
        assert deliveries(worker.worker.engine) == [
            ("service_request_overdue", "pending", 0, None)
        ], "the call was still in flight while all 50 were ingested"
        robots.release.set()  # the receiver answers at last: sent, on ingest's /metrics
        metrics = worker.metrics
        wait_until(
            lambda: metrics.value("hub_notifications_sent_total", {"channel": "webhook"}) == 1,
            what="the sent counter",
        )
        wait_until(lambda: metrics.value("hub_notifications_queue") == 0, what="an empty queue")
    finally:
        robots.close()


def test_the_ssrf_guard_allows_only_listed_hosts() -> None:
    hosts = allowed_hosts("oapi.dingtalk.com, qyapi.weixin.qq.com,127.0.0.1")
    assert check_webhook_url("https://oapi.dingtalk.com/robot/send?access_token=x", hosts)
    assert check_webhook_url("http://127.0.0.1:8080/hook", hosts)
    for bad in (
        "https://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/admin",
        "https://evil.example/hook",
        "http://oapi.dingtalk.com/robot/send",  # not https
        "https://user:pw@oapi.dingtalk.com/",
        "file:///etc/passwd",
        "https://oapi.dingtalk.com.evil.example/",
    ):
        with pytest.raises(UnsafeTargetError):
            check_webhook_url(bad, hosts)


def test_offline_edges_and_readers_dead_letter_surges_and_failed_commands_notify_once(
    engine: Engine, db_settings: HubSettings, mailbox: Mailbox
) -> None:
    register_venue(engine, "venue-s1")
    subscriber(engine, Role.OPERATOR, [("email", "ops@example.org", None)])
    now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    long_ago, just_now = now - timedelta(hours=2), now - timedelta(seconds=5)
    with Session(engine) as db:
        db.add_all(
            [
                Site(id="venue-s1", first_seen=long_ago, last_seen=long_ago, state="online"),
                Site(id="centre-x", first_seen=long_ago, last_seen=just_now, state="online"),
            ]
        )
        db.flush()  # the sites before their devices
        db.add_all(
            [
                Device(site_id="centre-x", id="reader-1", first_seen=long_ago, last_seen=just_now),
                Device(site_id="centre-x", id="reader-2", first_seen=long_ago, last_seen=long_ago),
                EdgeCommand(
                    id=uuid.uuid4(),
                    site_id="venue-s1",
                    op="restart",
                    args={},
                    state="expired",
                    reason="no reply",
                    created_at=now - timedelta(minutes=5),
                    deadline=now - timedelta(minutes=1),
                    finished_at=now - timedelta(minutes=1),
                ),
                *[
                    DeadLetter(
                        received_at=now - timedelta(seconds=n),
                        topic="x",
                        payload=b"?",
                        size=1,
                        reason_kind="decode",
                        reason="junk",
                    )
                    for n in range(3)
                ],
            ]
        )
        db.commit()
    settings = notify_settings(db_settings, mailbox, notify_dead_letter_surge=3)
    notifier = Notifier(engine, settings, CollectorRegistry(), clock=Clock(now))
    assert notifier.watch() == 4
    assert notifier.watch() == 0, "the same outages, surge and command: nothing new"
    with engine.connect() as conn:
        rows = {
            (r.kind, r.venue_id, r.centre_id)
            for r in conn.execute(text("SELECT kind, venue_id, centre_id FROM notifications"))
        }
    assert rows == {
        ("site_offline", "venue-s1", None),  # a venue's edge: its manager may hear of it
        ("device_offline", None, None),  # reader-2 silent while its edge is online
        ("command_failed", "venue-s1", None),
        ("dead_letter_surge", None, None),
    }
