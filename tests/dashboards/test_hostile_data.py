"""Hostile data is shown as text on every page: names in the records, topics and payloads of dead
letters with markup and script in them, stored and arriving live, never become markup."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from playwright.sync_api import Browser, Page

from hub.core.db import make_engine
from mqtt_contract import topics
from tests.dashboards.support import DashboardHub, open_page, watched
from tests.hub.support import EdgeClient

MakeEdge = Callable[..., EdgeClient]

HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>&amp;"\''
"""Markup a page would run or draw if it put data into ``innerHTML`` (or a template) unescaped."""

NAMED_TABLES = (
    "subdistricts",
    "communities",
    "units",
    "alliances",
    "service_centres",
    "venues",
    "volunteer_teams",
    "members",
)

PAGES = (
    "/",
    "/venues",
    "/venue?id=venue-01",
    "/checkins",
    "/checkins?site=centre-01",
    "/operations",
    "/site?id=centre-01",
    "/public",
    "/public/venues/venue-01",
    "/records",  # last: the test goes on on this page
)

INJECTED_JS = """() => ({
  xss: window.__xss ?? null,
  handlers: document.querySelectorAll('[onerror], [onload], [onclick]').length,
  stray: [...document.querySelectorAll('body img[src="x"], body script')]
    .filter((el) => (el.textContent || '').includes('__xss') || el.getAttribute('src') === 'x')
    .length,
})"""


def make_hostile(hub: DashboardHub) -> None:
    """Every name the pages show, and every activity title, becomes markup (kept unique)."""
    engine = make_engine(hub.settings.database_url)
    try:
        with engine.begin() as conn:
            for table in NAMED_TABLES:
                conn.execute(
                    sa.text(f"UPDATE {table} SET name = :hostile || id"),
                    {"hostile": HOSTILE},
                )
            conn.execute(
                sa.text("UPDATE activities SET title = :hostile || id"), {"hostile": HOSTILE}
            )
    finally:
        engine.dispose()


def assert_inert(page: Page, where: str) -> None:
    found = page.evaluate(INJECTED_JS)
    assert found == {"xss": None, "handlers": 0, "stray": 0}, f"{where}: markup from data ran"


def test_markup_in_names_topics_and_payloads_stays_text(
    browser: Browser, live_hub: DashboardHub, edge: MakeEdge
) -> None:
    make_hostile(live_hub)
    client = edge("centre-01")
    # A topic level may hold anything but '/', '+' and '#': the hub dead-letters such a device id.
    markup_device = '<img src=x onerror="window.__xss=3">'
    client.publish(f"{topics.PREFIX}/centre-01/{markup_device}/checkin", HOSTILE.encode())
    with watched(browser, login=live_hub) as w:
        for path in PAGES:
            open_page(w, live_hub.url + path)
            assert_inert(w.page, path)
            if path.startswith(("/venue", "/public")):
                assert HOSTILE in w.page.locator("body").inner_text(), f"{path}: name not shown"
        w.page.locator("#tab-sharing").click()
        w.page.locator("#sharing-table", has_text=HOSTILE).wait_for()
        assert_inert(w.page, "/records, venue sharing")

        open_page(w, live_hub.url + "/operations")
        text = w.page.locator("#dead-letters-table").inner_text()
        assert markup_device in text or HOSTILE[:20] in text, "the hostile dead letter is shown"
        # One arriving live on the open page, then its payload opened.
        live_device = "<img src=x onerror=window.__xss=4>"
        client.publish(f"{topics.PREFIX}/centre-01/{live_device}/checkin", HOSTILE.encode())
        row = w.page.locator("#dead-letters-table tbody tr", has_text=live_device)
        row.wait_for(timeout=15_000)
        assert_inert(w.page, "/operations, live")
        row.click()
        w.page.locator("#dead-letters-table pre.payload", has_text=HOSTILE).first.wait_for()
        assert_inert(w.page, "/operations, a hostile payload opened")
