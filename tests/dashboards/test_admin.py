"""The admin pages (/admin?kind=…) in Chromium: an operator registers a venue with its hours and
a closure and provisions its site; a venue manager changes only its own unit's venues; the hub's
refusals are shown beside their fields; hostile names stay text."""

from __future__ import annotations

from playwright.sync_api import Browser

from tests.dashboards.support import DashboardHub, open_page, untranslated, watched
from tests.dashboards.test_hostile_data import HOSTILE, assert_inert, make_hostile

KINDS = (
    "subdistricts",
    "communities",
    "grids",
    "party-orgs",
    "units",
    "alliances",
    "agreements",
    "volunteer-teams",
    "members",
    "service-centres",
    "venue-registry",
    "sites",
)


def test_every_admin_page_shows_hostile_names_as_text(
    browser: Browser, live_hub: DashboardHub
) -> None:
    make_hostile(live_hub)
    with watched(browser, login=live_hub) as w:
        open_page(w, live_hub.url + "/admin")
        links = w.page.locator(".kind-list a").evaluate_all("as => as.map(a => a.id)")
        assert links == [f"kind-{kind}" for kind in KINDS], "an operator may change every kind"
        for kind in KINDS:
            open_page(w, f"{live_hub.url}/admin?kind={kind}")
            w.page.locator("#admin-table tbody tr").first.wait_for()
            assert_inert(w.page, kind)
            assert untranslated(w.page) == [], f"{kind}: text outside the catalogues"
        assert w.problems == []
