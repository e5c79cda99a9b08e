"""The annual assessment's rules at their boundaries: 80 % exactly, 2 services exactly, no
registration, the year's edges in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hub.ingest.store import RecordStore
from hub.org.assessment import Assessment, MemberResult, UnitResult, build_assessment
from tests.hub.org.support import City, tap

T = datetime(2026, 5, 9, 1, 0, tzinfo=UTC)
REGISTERED = date(2026, 2, 1)


def units(report: Assessment) -> dict[str, UnitResult]:
    return {u.code: u for a in report.alliances for u in a.units}


def members(report: Assessment) -> dict[str, MemberResult]:
    return {m.code: m for c in report.communities for m in c.members}


def test_unit_reporting_rate_exactly_80_percent_keeps_excellent_open(city: City) -> None:
    at_80, at_75 = city.add_unit("U80"), city.add_unit("U75")
    for n in range(5):
        city.add_member(at_80, registered_on=REGISTERED if n < 4 else None)
    for n in range(4):
        city.add_member(at_75, registered_on=REGISTERED if n < 3 else None)
    empty = city.add_unit("U00")
    city.commit()
    report = build_assessment(city.session, 2026)
    by_code = units(report)
    assert (by_code["U80"].in_service, by_code["U80"].registered) == (5, 4)
    assert by_code["U80"].reporting_rate_pct == 80.0
    assert not by_code["U80"].below_threshold
    assert by_code["U80"].excellent_open
    assert by_code["U75"].reporting_rate_pct == 75.0
    assert by_code["U75"].below_threshold
    assert not by_code["U75"].excellent_open
    assert by_code[empty.code].reporting_rate_pct is None
    assert report.totals.units_below_threshold == 1
    assert [a.code for a in report.alliances] == ["A01"], "grouped by alliance"


def test_member_needs_registration_and_two_services(city: City, store: RecordStore) -> None:
    unit = city.add_unit("U01")
    two = city.add_member(unit, card="0000000001", registered_on=REGISTERED)
    one = city.add_member(unit, card="0000000002", registered_on=REGISTERED)
    unregistered = city.add_member(unit, card="0000000003")
    twice_same = city.add_member(unit, card="0000000004", registered_on=REGISTERED)
    late = city.add_member(unit, card="0000000005", registered_on=date(2027, 1, 1))
    study = city.add_activity(T)
    sign_up = city.add_activity(T + timedelta(days=1), kind="registration")
    city.commit()
    store.write(
        [
            tap("0000000001", T + timedelta(minutes=5)),  # the activity
            tap("0000000001", T + timedelta(days=3)),  # a walk-in service
            tap("0000000002", T + timedelta(minutes=5)),
            tap("0000000002", T + timedelta(days=1, minutes=5)),  # registration: not a service
            *(tap("0000000003", T + timedelta(days=d)) for d in (3, 4, 5)),
            tap("0000000004", T + timedelta(minutes=5)),
            tap("0000000004", T + timedelta(minutes=50)),  # the same activity again
            tap("0000000005", T + timedelta(minutes=5)),
            tap("0000000005", T + timedelta(days=3)),
        ]
    )
    assert study.id != sign_up.id
    report = build_assessment(city.session, 2026)
    got = members(report)
    assert (got[two.code].registered, got[two.code].services, got[two.code].excellent_open) == (
        True,
        2,
        True,
    )
    assert (got[one.code].services, got[one.code].excellent_open) == (1, False)
    assert got[unregistered.code].services == 3
    assert not got[unregistered.code].registered
    assert not got[unregistered.code].excellent_open
    assert (got[twice_same.code].services, got[twice_same.code].excellent_open) == (1, False)
    assert not got[late.code].registered, "registered only after the year"
    assert got[two.code].name == "王*东", "names are masked"
    assert report.totals.excellent_open == 1


def test_services_count_in_the_year_of_the_city(city: City, store: RecordStore) -> None:
    member = city.add_member(city.add_unit("U01"), card="0000000001", registered_on=REGISTERED)
    city.commit()
    store.write(
        [
            tap("0000000001", datetime(2025, 12, 31, 15, 59, tzinfo=UTC)),  # 2025-12-31 23:59
            tap("0000000001", datetime(2025, 12, 31, 16, 0, tzinfo=UTC)),  # 2026-01-01 00:00
            tap("0000000001", datetime(2026, 12, 31, 15, 59, tzinfo=UTC)),  # 2026-12-31 23:59
            tap("0000000001", datetime(2026, 12, 31, 16, 0, tzinfo=UTC)),  # 2027-01-01 00:00
        ]
    )
    assert members(build_assessment(city.session, 2025))[member.code].services == 1
    report = build_assessment(city.session, 2026)
    assert members(report)[member.code].services == 2
    community = report.communities[0]
    months = {m.key: m.count for m in community.attendance_by_month}
    assert (months["2026-01"], months["2026-12"], sum(months.values())) == (1, 1, 2)
    assert members(build_assessment(city.session, 2027))[member.code].services == 1


def test_community_figures(city: City, store: RecordStore) -> None:
    unit = city.add_unit("U01")
    city.add_member(unit, card="0000000001", registered_on=REGISTERED)
    city.add_member(unit, card="0000000002", registered_on=REGISTERED)
    city.add_member(unit)
    city.add_activity(T, theme="学习党章")
    city.add_activity(T + timedelta(days=40), theme="文明创建")
    city.commit()
    store.write(
        [
            tap("0000000001", T + timedelta(minutes=1)),
            tap("0000000002", T + timedelta(minutes=2)),
            tap("ABCDEF0123", T + timedelta(minutes=3)),  # an unknown card
            tap("0000000001", T + timedelta(days=40, minutes=1)),
            tap("0000000002", T + timedelta(days=20)),  # a walk-in
        ]
    )
    (community,) = build_assessment(city.session, 2026).communities
    assert community.members_registered == 2
    assert community.activities_held == 2
    assert (community.attendance, community.unknown_card_taps) == (5, 1)
    months = {m.key: m.count for m in community.attendance_by_month}
    assert (months["2026-05"], months["2026-06"], months["2026-01"]) == (4, 1, 0)
    themes = {t.key: t.count for t in community.attendance_by_theme}
    assert themes == {"学习党章": 3, "文明创建": 1, None: 1}
