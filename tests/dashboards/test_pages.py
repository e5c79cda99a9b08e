"""Every page in headless Chromium: loads with no console error and no failed request, shows no
text outside the catalogues, at desktop and tablet widths, in both languages (the desktop width
through the language test, which loads each page in both); a screenshot of each is written to
test-artifacts/screenshots/ for a person to look at."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Browser

from demo.seed import member_card
from hub.core.db import make_engine
from hub.org.models import Member
from tests.dashboards.support import (
    CITY_SEED,
    VIEWPORTS,
    DashboardHub,
    Watched,
    open_page,
    screenshot,
    untranslated,
    watched,
)


def member_names(hub: DashboardHub) -> list[str]:
    engine = make_engine(hub.settings.database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.select(Member.name)).scalars())
    finally:
        engine.dispose()


PAGES = {
    "home": "/",
    "venues": "/venues",
    "venue": "/venue?id=venue-01",
    "checkins": "/checkins",
    "operations": "/operations",
    "site": "/site?id=centre-01",
    "records": "/records",
    "admin": "/admin?kind=venue-registry",
    "audit": "/audit",
    "notifications": "/notifications",
}


STATIC_PAGES = frozenset({"records", "admin", "audit", "notifications"})
"""Pages with no live stream."""


def check_and_photograph(w: Watched, name: str, viewport: str, lang: str) -> None:
    """The checks every page passes in every language and width, and its screenshot."""
    page = w.page
    assert page.evaluate("document.documentElement.lang") == lang
    state = page.locator("#live-state").get_attribute("data-state")
    assert state == ("idle" if name in STATIC_PAGES else "open"), "not live"
    assert untranslated(page) == [], f"{name}: text outside the catalogues"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORTS[viewport]["width"], f"{name} overflows at {viewport}"
    screenshot(w, f"{name}-{viewport}-{lang}")
    assert w.problems == [], f"{name} ({viewport}, {lang})"


def test_each_page_loads_cleanly_at_tablet_width_and_is_photographed(
    browser: Browser, hub: DashboardHub
) -> None:
    # the tablet in Chinese; the desktop width in both languages is photographed by the
    # language test (tests/dashboards/test_language.py), which loads every page in each
    for name, path in PAGES.items():
        with watched(browser, "tablet", "zh-CN", login=hub) as w:
            open_page(w, hub.url + path)
            check_and_photograph(w, name, "tablet", "zh-CN")


def test_pages_show_the_records(browser: Browser, hub: DashboardHub) -> None:
    with watched(browser, login=hub) as w:
        open_page(w, hub.url + "/checkins?site=centre-02")
        rows = w.page.locator("#feed-table tbody tr")
        assert rows.count() == 50, "the newest 50 (today's, then last year's seeded taps)"
        assert w.page.locator("#centre").input_value() == "centre-02"
        assert w.page.locator("#stat-today .figure").inner_text() == "16", "centre-02's morning"
        first = rows.first.inner_text()
        assert "centre-02" not in first, "one centre: the reader column names the reader only"
        members = w.page.locator("#feed-table tbody td:nth-child(2)").all_inner_texts()
        masked = [m for m in members if re.fullmatch(r"\S\*+\S?", m)]
        assert masked, "seeded members' taps show their masked names"
        assert all(m.startswith("卡 ") or m in masked for m in members), members
        assert not set(member_names(hub)) & set(members), "never a whole name"
        page_text = w.page.content()
        cards = [member_card(CITY_SEED, n) for n in range(1, 121)]
        assert not [c for c in cards if c in page_text], "never a card number"
        open_page(w, hub.url + "/operations")
        sites = w.page.locator(".sites-table tbody tr")
        assert sites.count() == 5, "3 centres, 2 venues, in their groups"
        problems = w.page.locator("#problems-table tbody tr")
        assert problems.count() == 5, "none has an account in the registry: all unregistered"
        assert w.page.locator("#devices-table tbody tr.empty").count() == 1, "every device is ok"
        assert w.page.locator("#dead-letters-table tbody tr").count() == 2
        w.page.locator("#dead-letters-table tbody tr").first.click()
        assert w.page.locator("#dead-letters-table pre.payload").count() == 2, "text and hex"
        assert w.problems == []


def test_pages_work_on_postgresql(browser: Browser, pg_hub: DashboardHub) -> None:
    for name, path in PAGES.items():
        with watched(browser, login=pg_hub) as w:
            open_page(w, pg_hub.url + path)
            assert w.problems == [], name
