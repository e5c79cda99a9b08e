"""Retention on SQLite and PostgreSQL: what the reports read (attendance, the assessment, the
venue-sharing report, the occupancy rollups) survives a purge; the raw check-ins past their year's
assessment and the readings whose rollups exist do not; a reading still waiting for its rollup
stays. On PostgreSQL the raw tables are partitioned: old partitions are dropped, a reading of any
time still inserts (the default partition), and a redelivered event still lands once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hub.auth.models import User
from hub.auth.roles import Role
from hub.auth.users import add_user_without_token, issue_login_code
from hub.composition import build_ingest, build_store
from hub.core import partitions
from hub.core.settings import HubSettings
from hub.ingest.events import DeadLetterKind, DeadLetterRecord, EventRecord
from hub.metrics import RetentionMetrics
from hub.notify.models import Notification, NotificationChannel, NotificationDelivery
from hub.org.assessment import build_assessment
from hub.org.models import ServiceCentre
from hub.retention import kinds
from hub.retention.cli import main as retention_main
from hub.retention.job import LOCK_KEY, RetentionJob, run
from hub.venues.occupancy import GateReading
from hub.venues.reports import venue_sharing
from hub.venues.service import OccupancyService
from tests.hub.org.support import City, hashed, tap
from tests.hub.venues.support import EDGE_BOOT, T0, counter_record, register_venue

KNOWN, STRANGER, LATE = "0A1B2C3D4E", "FFEEDDCCBB", "1234567890"
LAST_YEAR = datetime(2025, 6, 10, 1, 0, tzinfo=UTC)  # 09:00 in Yuanping
NOW = datetime(2026, 12, 20, 4, 0, tzinfo=UTC)
"""Past the 90 days into 2026 that 2025's assessment had: 2025's raw check-ins go. Readings:
14 days back is 6 December."""
PENDING_DAY = T0 + timedelta(days=2)


def _count(engine: Engine, sql: str, **params: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql), params).scalar() or 0)


def _readings(start: datetime, n: int, seq0: int) -> list[GateReading]:
    """A gate read every minute, ``n`` times, someone coming in each time."""
    return [
        GateReading(
            device="gate-1",
            device_boots=1,
            edge_boot=EDGE_BOOT,
            seq=seq0 + i,
            time=start + timedelta(minutes=i),
            count_in=10 + i,
            count_out=3,
        )
        for i in range(n)
    ]


def _rollups(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT venue_id, step, bucket_start, readings, visits, peak, mean, last "
                "FROM occupancy_rollups ORDER BY venue_id, step, bucket_start"
            )
        )
        return [tuple(r) for r in rows]


def _partitioned(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _notifications(engine: Engine, *created: datetime) -> None:
    """A notification made at each of ``created``, each delivered to the operator's channel."""
    with engine.begin() as conn:
        user = conn.execute(sa.select(User.id).where(User.username == "ops")).scalar_one()
        channel = conn.execute(
            sa.insert(NotificationChannel).returning(NotificationChannel.id),
            {
                "user_id": user,
                "kind": "webhook",
                "name": "值班",
                "target": "https://hooks.example/x",
                "created_at": NOW,
            },
        ).scalar_one()
        for n, at in enumerate(created):
            notification = conn.execute(
                sa.insert(Notification).returning(Notification.id),
                {
                    "dedup_key": f"test:{n}",
                    "kind": "capacity_alert_raised",
                    "title": "t",
                    "body": "b",
                    "created_at": at,
                },
            ).scalar_one()
            conn.execute(
                sa.insert(NotificationDelivery),
                {
                    "notification_id": notification,
                    "channel_id": channel,
                    "user_id": user,
                    "state": "sent",
                    "next_attempt_at": at,
                    "created_at": at,
                    "sent_at": at,
                },
            )


def test_a_purge_keeps_what_the_reports_need_and_lets_personal_data_go(
    engine: Engine, db_settings: HubSettings
) -> None:
    # --- a member who served twice in 2025, and taps of 2026 --------------------------------
    city = City(engine)
    unit = city.add_unit("U01")
    member = city.add_member(unit, card=KNOWN, registered_on=date(2025, 3, 1))
    first = city.add_activity(LAST_YEAR, hours=2)
    second = city.add_activity(LAST_YEAR + timedelta(days=7), hours=2)
    city.commit()
    store = build_store(engine)
    last_year = [
        tap(KNOWN, first.starts_at + timedelta(minutes=10)),
        tap(KNOWN, second.starts_at + timedelta(minutes=10)),
        tap(STRANGER, first.starts_at + timedelta(minutes=20)),
    ]
    this_year = [tap(KNOWN, T0), tap(STRANGER, T0 + timedelta(minutes=1))]
    # a tap at a centre registered only later: no attendance yet when it is recorded
    late = tap(LATE, LAST_YEAR, site="centre-02", device="reader-9")
    store.write([*last_year, *this_year, late])
    other = city.add_community("C02", "康乐社区")  # its centre is registered after the tap
    city.commit()
    with Session(engine) as session:
        session.add(ServiceCentre(id="centre-02", name="康乐党群服务中心", community_id=other.id))
        session.commit()
    city.close()

    # --- a venue: readings rolled up on 27 November, still waiting on the 29th --------------
    register_venue(engine, "venue-01", capacity=100)
    service = OccupancyService(engine, CollectorRegistry(), publish=lambda t, p: True)
    rolled = [counter_record("venue-01", r) for r in _readings(T0, 20, 1)]
    store.write(rolled)
    service.after_commit(rolled)
    assert service.roll_up(T0 + timedelta(hours=1)) > 0
    waiting = [counter_record("venue-01", r) for r in _readings(PENDING_DAY, 10, 100)]
    store.write(waiting)
    service.after_commit(waiting)
    old_letter = DeadLetterRecord(
        "yp/v1/x", b"{", 1, DeadLetterKind.NOT_JSON, "not JSON", NOW - timedelta(days=40)
    )
    new_letter = DeadLetterRecord("yp/v1/x", b"[", 1, DeadLetterKind.NOT_JSON, "not JSON", NOW)
    store.write([old_letter, new_letter])
    with Session(engine) as session:
        add_user_without_token(session, "ops", Role.OPERATOR)
        issue_login_code(session, "ops", timedelta(hours=1), now=NOW)
        issue_login_code(session, "ops", timedelta(minutes=10), now=NOW - timedelta(days=2))
    _notifications(engine, NOW - timedelta(days=100), NOW - timedelta(days=1))

    if _partitioned(engine):  # the rows sit in the default partition until theirs is made
        with engine.begin() as conn:
            partitions.ensure_partitions(conn, "checkins", "month", LAST_YEAR, LAST_YEAR)
            partitions.ensure_partitions(
                conn, "counter_readings", "day", T0 - timedelta(days=1), PENDING_DAY
            )
        assert _count(engine, 'SELECT count(*) FROM partitions."checkins_p202506"') == 4

    with Session(engine) as session:
        before = build_assessment(session, 2025)
    with engine.connect() as conn:
        sharing_before = venue_sharing(conn, "2026-11")
    rollups_before = _rollups(engine)
    attendance_before = _count(engine, "SELECT count(*) FROM attendance")
    assert attendance_before == 5

    # --- the purge ------------------------------------------------------------------------
    registry = CollectorRegistry()
    results = run(engine, kinds(db_settings), RetentionMetrics(registry), now=NOW)

    # personal data past its time is gone: no raw 2025 tap, no card hash of them
    assert (
        _count(
            engine,
            "SELECT count(*) FROM checkins WHERE device_time < :y",
            y=NOW.replace(month=1, day=1),
        )
        == 0
    )
    assert _count(engine, "SELECT count(*) FROM checkins") == len(this_year)
    for card in (LATE,):
        assert (
            _count(engine, "SELECT count(*) FROM checkins WHERE card_hash = :h", h=hashed(card))
            == 0
        )
    # ... reduced to attendance: every row stays, and the late centre's tap became one
    assert _count(engine, "SELECT count(*) FROM attendance") == attendance_before + 1
    assert _count(engine, "SELECT count(*) FROM attendance WHERE centre_id = 'centre-02'") == 1
    # ... and the attendance of those taps no longer carries the card: 2026's still does
    assert _count(engine, "SELECT count(*) FROM attendance WHERE card_hash IS NOT NULL") == 2
    with Session(engine) as session:
        after = build_assessment(session, 2025)
    # what the assessment of 2025 says is what it said before (the late centre's community
    # gained the one attendance it was missing)
    assert (after.totals, after.alliances) == (before.totals, before.alliances)
    assert after.communities[0] == before.communities[0]
    assert after.communities[1].attendance == before.communities[1].attendance + 1
    (result,) = [m for m in after.communities[0].members if m.id == member.id]
    assert (result.services, result.excellent_open) == (2, True)

    # readings: those rolled up and 14 days old are gone, those still waiting stay
    assert (
        _count(
            engine,
            "SELECT count(*) FROM counter_readings WHERE device_time < :d",
            d=PENDING_DAY - timedelta(days=1),
        )
        == 0
    )
    assert _count(engine, "SELECT count(*) FROM counter_readings") == len(waiting)
    assert _rollups(engine) == rollups_before
    with engine.connect() as conn:
        assert venue_sharing(conn, "2026-11") == sharing_before
    assert sharing_before[0][0].visits > 0

    assert _count(engine, "SELECT count(*) FROM dead_letters") == 1
    assert _count(engine, "SELECT count(*) FROM login_codes") == 1  # the one not expired
    # the notification of 100 days ago went with its delivery; yesterday's stays
    assert _count(engine, "SELECT count(*) FROM notifications") == 1
    assert _count(engine, "SELECT count(*) FROM notification_deliveries") == 1

    value = registry.get_sample_value
    assert results["checkins"].cutoff == datetime(2026, 1, 1, tzinfo=partitions.CITY_TZ)
    if _partitioned(engine):
        assert results["checkins"].partitions == 1  # June 2025, dropped whole
        assert results["counter_readings"].partitions == 3  # 26 to 28 November
        assert value("hub_retention_partitions_dropped_total", {"kind": "checkins"}) == 1
        with engine.connect() as conn:
            names = {p.name for p in partitions.partitions(conn, "counter_readings", "day")}
        assert "counter_readings_p20261129" in names  # its readings wait for their rollup
        assert "counter_readings_p20261127" not in names
    else:
        assert value("hub_retention_rows_purged_total", {"kind": "checkins"}) == 4
        assert value("hub_retention_rows_purged_total", {"kind": "counter_readings"}) == 20
    assert value("hub_retention_rows_purged_total", {"kind": "dead_letters"}) == 1
    assert (value("hub_retention_last_run_timestamp_seconds") or 0) > 0
    assert value("hub_retention_last_run_duration_seconds") is not None

    # a second run finds nothing more
    again = run(engine, kinds(db_settings), now=NOW)
    assert all(r.rows == 0 and r.partitions == 0 for r in again.values())


def test_any_device_time_inserts_and_a_redelivery_lands_once(engine: Engine) -> None:
    """The default partition takes what no partition covers; a partition made later takes its
    rows out of it; a redelivered event, before and after, is one row, and another event reusing
    an id is a dead letter as before."""
    store = build_store(engine)
    far = [
        GateReading("gate-1", 1, EDGE_BOOT, 1, datetime(2031, 1, 1, 3, tzinfo=UTC), 5, 1),
        GateReading("gate-1", 1, EDGE_BOOT, 2, datetime(2001, 5, 5, 3, tzinfo=UTC), 6, 1),
    ]
    records = [counter_record("venue-09", r) for r in far]
    assert store.write(records).committed == 2
    assert store.write(records).duplicates == 2
    if _partitioned(engine):
        assert _count(engine, 'SELECT count(*) FROM partitions."counter_readings_default"') == 2
        with engine.begin() as conn:
            made = partitions.ensure_partitions(
                conn, "counter_readings", "day", far[0].time, far[0].time
            )
        assert made == ["counter_readings_p20310101"]
        assert _count(engine, 'SELECT count(*) FROM partitions."counter_readings_p20310101"') == 1
        assert _count(engine, 'SELECT count(*) FROM partitions."counter_readings_default"') == 1
    again = store.write(records)
    assert (again.committed, again.duplicates) == (0, 2)
    assert _count(engine, "SELECT count(*) FROM counter_readings") == 2

    reused = counter_record(
        "venue-09",
        GateReading("gate-1", 1, EDGE_BOOT, 3, datetime(2031, 1, 2, tzinfo=UTC), 7, 1),
    )
    clash = reused.event.model_copy(update={"id": records[0].event.id})
    record = EventRecord(
        event=clash, received_at=reused.received_at, topic=reused.topic, payload=clash.to_bytes()
    )
    result = store.write([record])
    assert result.committed == 0
    assert result.dead_letters["conflict"] == 1
    assert _count(engine, "SELECT count(*) FROM counter_readings") == 2


def test_the_command_shows_and_runs_and_the_hub_exports_the_figures(
    engine: Engine, db_settings: HubSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    city = City(engine)
    city.commit()
    city.close()
    build_store(engine).write([tap(KNOWN, LAST_YEAR), tap(KNOWN, datetime.now(UTC))])
    url = ["--database-url", db_settings.database_url]
    assert retention_main(["status", *url]) == 0
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()}
    assert lines["checkins"][1] == "2025-06-10"  # the oldest row
    assert lines["checkins"][3] == "2026-01-01"  # the cutoff: 2025's assessment is done
    assert lines["checkins"][5] == "1"  # beyond it
    assert {"counter_readings", "bay_readings", "dead_letters", "sessions"} <= set(lines)
    assert retention_main(["run", *url]) == 0
    assert "checkins" in capsys.readouterr().out
    assert retention_main(["status", *url]) == 0
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()}
    assert lines["checkins"][5] == "0"

    if engine.dialect.name == "postgresql":  # another hub worker holds the job's lock
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            conn.commit()
            assert retention_main(["run", *url]) == 1
            assert "another process is running it" in capsys.readouterr().out
            conn.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
            conn.commit()

    ingest = build_ingest(db_settings)
    try:
        jobs = [s for s in ingest.worker._services if isinstance(s, RetentionJob)]
        assert len(jobs) == 1
        assert {k.name for k in jobs[0].kinds} >= {"checkins", "counter_readings"}
        run(engine, jobs[0].kinds, jobs[0]._metrics)
        text = ingest.metrics.render().decode()
        assert 'hub_retention_rows_purged_total{kind="checkins"}' in text
        assert "hub_retention_last_run_timestamp_seconds" in text
    finally:
        ingest.worker.engine.dispose()


def test_the_settings_are_bounded() -> None:
    with pytest.raises(ValueError, match="retain_readings_days"):
        HubSettings(retain_readings_days=0)
    with pytest.raises(ValueError, match="retain_checkins_after_year_days"):
        HubSettings(retain_checkins_after_year_days=400)
