"""The audit recorder: changes to audited rows are logged in their own transaction, with the
actor, the values before and after, and secrets redacted; the log cannot be rewritten on
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from hub.audit import Actor, AuditEntry, act_as, record_export
from hub.core.db import make_engine, session_factory
from hub.core.settings import HubSettings
from hub.org.models import Community, Member, Subdistrict, Unit
from hub.venues.models import Venue
from tests.migrated import MigratedTemplates

ALICE = Actor(name="alice", source="api", request_id="r-1", request="PATCH /api/v1/venues/v-1")


@pytest.fixture
def engines() -> Iterator[list[sa.Engine]]:
    made: list[sa.Engine] = []
    yield made
    for engine in made:
        engine.dispose()


def _city(settings: HubSettings, engines: list[sa.Engine]) -> sa.orm.sessionmaker[sa.orm.Session]:
    engines.append(make_engine(settings.database_url))
    sessions = session_factory(engines[-1])
    with sessions() as session:
        # no relationship() between the tables: flush each before the rows that refer to it
        session.add(Subdistrict(id=1, code="S1", name="东街道"))
        session.flush()
        session.add(Community(id=1, code="C1", name="东社区", subdistrict_id=1))
        session.flush()
        session.add(Unit(id=1, code="U1", name="供水公司", kind="enterprise", community_id=1))
        session.commit()
    return sessions


def _entries(sessions: sa.orm.sessionmaker[sa.orm.Session], table: str) -> list[AuditEntry]:
    with sessions() as session:
        query = sa.select(AuditEntry).where(AuditEntry.table_name == table)
        return list(session.scalars(query.order_by(AuditEntry.id)))


def test_create_update_archive_are_logged_with_actor_and_values(
    db_settings: HubSettings, engines: list[sa.Engine]
) -> None:
    sessions = _city(db_settings, engines)
    with sessions() as session:
        act_as(session, ALICE)
        venue = Venue(
            id="v-1",
            name="灯光球场",
            kind="sports_ground",
            unit_id=1,
            community_id=1,
            address="东街1号",
            capacity=100,
            opens_at=time(6),
            closes_at=time(22),
        )
        session.add(venue)
        session.commit()
        venue.capacity = 150
        session.commit()
        venue.archived_at = datetime(2026, 12, 1, tzinfo=UTC)
        session.commit()
    created, updated, archived = _entries(sessions, "venues")
    assert (created.action, created.actor, created.source) == ("create", "alice", "api")
    assert created.row_id == "v-1"
    assert created.after is not None
    assert created.after["capacity"] == 100
    assert created.request_id == "r-1"
    assert created.request == "PATCH /api/v1/venues/v-1"
    assert (updated.action, updated.before, updated.after) == (
        "update",
        {"capacity": 100},
        {"capacity": 150},
    )
    assert archived.action == "archive"
    # the seed wrote with no one named: the system
    assert [e.actor for e in _entries(sessions, "units")] == ["system"]


def test_a_rolled_back_change_leaves_no_entry(
    db_settings: HubSettings, engines: list[sa.Engine]
) -> None:
    sessions = _city(db_settings, engines)
    with sessions() as session:
        act_as(session, ALICE)
        unit = session.get(Unit, 1)
        assert unit is not None
        unit.name = "改名"
        session.flush()
        session.rollback()
    assert [e.action for e in _entries(sessions, "units")] == ["create"]


def test_secrets_are_redacted_and_exports_are_logged(
    db_settings: HubSettings, engines: list[sa.Engine]
) -> None:
    sessions = _city(db_settings, engines)
    with sessions() as session:
        act_as(session, ALICE)
        session.add(
            Member(id=1, code="M1", name="王晓东", unit_id=1, community_id=1, card_hash="ab" * 32)
        )
        record_export(session, what="member_list", detail={"format": "csv", "rows": 1})
        session.commit()
    (member,) = _entries(sessions, "members")
    assert member.after is not None
    assert member.after["card_hash"] == "(redacted)"
    assert member.after["name"] == "王晓东"
    assert "ab" * 32 not in str(member.after)
    (export,) = _entries(sessions, "member_list")
    assert export.after == {"format": "csv", "rows": 1}


def test_exports_are_logged(db_settings: HubSettings, engines: list[sa.Engine]) -> None:
    sessions = _city(db_settings, engines)
    with sessions() as session:
        act_as(session, ALICE)
        record_export(session, what="member_list", detail={"format": "csv", "rows": 3})
        session.commit()
    (export,) = _entries(sessions, "member_list")
    assert (export.action, export.actor, export.after) == (
        "export",
        "alice",
        {"format": "csv", "rows": 3},
    )


def test_the_hub_role_cannot_rewrite_the_log_on_postgresql(
    postgres_url: str, migrated: MigratedTemplates, engines: list[sa.Engine]
) -> None:
    migrated.migrate(postgres_url)
    settings = HubSettings(database_url=postgres_url, mode="demo")
    sessions = _city(settings, engines)
    engine = engines[0]
    for statement in (
        "UPDATE audit_log SET actor = 'mallory'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ):
        with engine.begin() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(sa.text(statement))
    # a row past the legal minimum may be purged
    with engine.begin() as conn:
        conn.execute(
            sa.insert(AuditEntry).values(
                at=datetime.now(UTC) - timedelta(days=181),
                actor="system",
                source="system",
                action="update",
                table_name="units",
                row_id="1",
            )
        )
        purged = conn.execute(
            sa.text("DELETE FROM audit_log WHERE at < now() - interval '180 days'")
        )
        assert purged.rowcount == 1
    assert len(_entries(sessions, "units")) == 1
