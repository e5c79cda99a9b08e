"""The synthetic city: the report's figures, the same city for the same seed, a clear refusal to
seed twice; the seed and import commands."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from demo.seed import CITY, Scale, SeedError, member_card, seed_city
from demo.seed_cli import main as seed_main
from hub.audit import AuditEntry
from hub.core.db import make_engine, upgrade
from hub.ingest.models import Checkin
from hub.org.assessment import build_assessment
from hub.org.models import Member, PartyOrg
from hub.roster import ROSTER_KINDS
from hub.roster.cli import import_main
from hub.roster.sheets import to_xlsx
from hub.roster.templates import template
from hub.venues.models import Venue
from tests.hub.org.support import hashed
from tests.hub.support import CARD_KEY

SMALL = Scale(
    communities=4,
    grids=20,
    grid_branches=6,
    party_groups=8,
    units=12,
    members=120,
    centres=2,
    venues=5,
    volunteer_teams=10,
    activities=96,
    service_requests=30,
)


def snapshot(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        members = conn.execute(
            sa.select(Member.code, Member.name, Member.card_hash, Member.unit_id).order_by(
                Member.id
            )
        ).all()
        taps = conn.execute(
            sa.select(
                Checkin.site_id, Checkin.seq, Checkin.device_time, Checkin.card_hash
            ).order_by(Checkin.site_id, Checkin.seq)
        ).all()
    return [tuple(r) for r in members] + [tuple(r) for r in taps]


def test_the_city_at_the_reports_scale(engine: Engine) -> None:
    report = seed_city(engine, seed=1, key=CARD_KEY, year=2025)
    counts = report.counts
    assert (counts["subdistricts"], counts["communities"], counts["grids"]) == (3, 16, 227)
    assert (counts["units"], counts["members"], counts["service_centres"]) == (230, 4800, 8)
    assert (counts["venues"], counts["volunteer_teams"]) == (52, 160)
    assert counts["activities"] >= 1800
    assert counts["attendance"] == counts["checkins"] > 10_000
    with engine.connect() as conn:
        kinds = dict(
            conn.execute(sa.select(PartyOrg.kind, sa.func.count()).group_by(PartyOrg.kind)).all()
        )
        venues = conn.execute(sa.select(Venue.id).order_by(Venue.id)).scalars().all()
    assert (kinds["grid_branch"], kinds["building_group"]) == (55, 128)
    assert (venues[0], venues[-1]) == ("venue-01", "venue-52")
    with sa.orm.Session(engine) as session:
        assessment = build_assessment(session, 2025)
        member = session.scalars(sa.select(Member).where(Member.code == "M00001")).one()
        assert member.card_hash == hashed(member_card(1, 1)), "demo cards are seeded cards"
        # ids given by the seed do not collide with records added afterwards (PostgreSQL sequences)
        session.add(Member(code="NEW", name="新成员", unit_id=1, community_id=1, in_service=True))
        session.commit()
    assert assessment.totals.members == CITY.members
    assert 0 < assessment.totals.units_below_threshold < CITY.units
    with pytest.raises(SeedError, match="already holds records"):
        seed_city(engine, seed=1, key=CARD_KEY, year=2025)


def test_the_same_seed_gives_the_same_city(tmp_path: Path, database_url: str) -> None:
    urls = [database_url, f"sqlite:///{tmp_path / 'twin.db'}"]
    snapshots = []
    for url in urls:
        upgrade(url)
        engine = make_engine(url)
        try:
            seed_city(engine, seed=7, key=CARD_KEY, year=2025, scale=SMALL)
            snapshots.append(snapshot(engine))
        finally:
            engine.dispose()
    assert snapshots[0] == snapshots[1]
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(str(other.url))
    try:
        seed_city(other, seed=8, key=CARD_KEY, year=2025, scale=SMALL)
        assert snapshot(other) != snapshots[0]
    finally:
        other.dispose()


def test_seed_and_import_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cmd.db'}"
    monkeypatch.delenv("HUB_CARD_KEY", raising=False)
    assert seed_main(["--seed", "1", "--database-url", url]) == 2
    assert "HUB_CARD_KEY" in capsys.readouterr().err
    monkeypatch.setenv("HUB_CARD_KEY", CARD_KEY.decode())
    assert seed_main(["--seed", "1", "--year", "2025", "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert "members: 4800" in out
    assert "assessment?year=2025" in out

    roster = tmp_path / "members.csv"
    roster.write_text("code,name,unit_code,community_code,card\nX1,测试,U001,C01,00000000ZZ\n")
    assert import_main(["members", str(roster), "--database-url", url]) == 1
    err = capsys.readouterr().err
    assert "nothing was imported" in err
    assert "line 2, column card: a card number is 10 hexadecimal digits" in err
    roster.write_text("code,name,unit_code,community_code,card\nX1,测试,U001,C01,00000000AA\n")
    assert import_main(["members", str(roster), "--database-url", url]) == 0
    assert "1 members rows imported (1 new, 0 updated)" in capsys.readouterr().out

    # every kind's template imports into the demo city as it stands; each row is audited
    for kind in ROSTER_KINDS:
        sheet = tmp_path / f"{kind}.xlsx"
        header, rows = template(kind)
        sheet.write_bytes(to_xlsx(header, rows, kind))
        assert import_main([kind, str(sheet), "--database-url", url]) == 0, capsys.readouterr()
        assert f"1 {kind} rows imported (1 new, 0 updated)" in capsys.readouterr().out
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            sources = conn.execute(
                sa.select(AuditEntry.table_name, AuditEntry.source, AuditEntry.request).where(
                    AuditEntry.row_id == "venue-53"
                )
            ).all()
    finally:
        engine.dispose()
    ((table, source, request),) = sources
    assert (table, source) == ("venues", "import")
    assert request == f"community import venues {tmp_path / 'venues.xlsx'} --database-url {url}"
