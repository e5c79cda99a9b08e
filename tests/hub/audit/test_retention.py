"""Retention: nothing is purged unless HUB_AUDIT_RETENTION_DAYS says so, never less than 180
days are kept, and a purge removes only the rows older than the setting, on SQLite and on
PostgreSQL (where the table's trigger would refuse anything younger than 180 days)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from hub.audit.cli import main as audit_main
from hub.audit.models import MIN_RETENTION_DAYS
from hub.audit.retention import audit_kind, purge
from hub.core.settings import HubSettings
from hub.retention.job import RetentionJob
from hub.server import main as hub_main
from tests.hub.audit.support import add_entry, entries
from tests.hub.support import wait_until

AGES_DAYS = (10, 179, 181, 200, 400, 800)


def _aged(engine: sa.Engine) -> dict[int, int]:
    """One row of each age in days; {age: id}."""
    now = datetime.now(UTC)
    return {age: add_entry(engine, now - timedelta(days=age)) for age in AGES_DAYS}


def _ages_left(engine: sa.Engine, rows: dict[int, int]) -> list[int]:
    left = {entry.id for entry in entries(engine)}
    return [age for age, ident in rows.items() if ident in left]


def test_a_retention_below_180_days_is_refused_with_the_reason() -> None:
    with pytest.raises(ValidationError, match="kept at least 180 days"):
        HubSettings(mode="demo", audit_retention_days=179)
    assert HubSettings(mode="demo", audit_retention_days=180).audit_retention_days == 180
    assert HubSettings(mode="demo").audit_retention_days is None  # kept forever
    with pytest.raises(ValueError, match="at least 180 days"):
        purge(sa.create_engine("sqlite://"), 30)


def test_the_hub_does_not_start_with_a_short_retention(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUB_AUDIT_RETENTION_DAYS", "90")
    assert hub_main(["--no-ingest", "--database-url", "sqlite://"]) == 2
    err = capsys.readouterr().err
    assert "audit_retention_days" in err
    assert "HUB_AUDIT_RETENTION_DAYS=90: the audit log must be kept at least 180 days" in err


def test_purge_removes_only_rows_older_than_the_retention(engine: sa.Engine) -> None:
    rows = _aged(engine)
    assert purge(engine, 365) == 2
    assert _ages_left(engine, rows) == [10, 179, 181, 200]
    assert purge(engine, MIN_RETENTION_DAYS, batch=1) == 2  # a batch at a time, all of them
    assert _ages_left(engine, rows) == [10, 179]
    assert purge(engine, MIN_RETENTION_DAYS) == 0


def test_the_command_purges_only_when_the_setting_is_set(
    db_settings: HubSettings,
    engine: sa.Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = _aged(engine)
    url = ["--database-url", db_settings.database_url]
    monkeypatch.delenv("HUB_AUDIT_RETENTION_DAYS", raising=False)
    assert audit_main(["purge", *url]) == 0
    assert "kept forever" in capsys.readouterr().out
    assert _ages_left(engine, rows) == list(AGES_DAYS)

    monkeypatch.setenv("HUB_AUDIT_RETENTION_DAYS", "100")
    assert audit_main(["purge", *url]) == 2
    assert "at least 180 days" in capsys.readouterr().err
    assert _ages_left(engine, rows) == list(AGES_DAYS)

    monkeypatch.setenv("HUB_AUDIT_RETENTION_DAYS", "190")
    assert audit_main(["purge", *url]) == 0
    assert "3 rows older than 190 days purged" in capsys.readouterr().out
    assert _ages_left(engine, rows) == [10, 179, 181]


def test_the_hubs_job_purges_at_its_start(engine: sa.Engine) -> None:
    rows = _aged(engine)
    job = RetentionJob(engine, [audit_kind(365)], interval_s=3600, first_run_s=0)
    job.start()
    try:
        wait_until(lambda: _ages_left(engine, rows) == [10, 179, 181, 200], 10, "the purge")
    finally:
        job.stop()


def test_the_hubs_job_purges_the_audit_log_only_with_the_setting(db_settings: HubSettings) -> None:
    from hub.composition import build_ingest  # noqa: PLC0415 - the whole hub, for this test only

    def kinds(settings: HubSettings) -> list[str]:
        worker = build_ingest(settings)
        try:
            (job,) = [s for s in worker.worker._services if isinstance(s, RetentionJob)]
            return [kind.name for kind in job.kinds]
        finally:
            worker.worker.engine.dispose()

    assert "audit_log" not in kinds(db_settings)
    kept = db_settings.model_copy(update={"audit_retention_days": 365})
    assert "audit_log" in kinds(kept)
