"""Logging in to the dashboard in headless Chromium: a page without a session goes to the login
page and comes back after it; a wrong token is refused; the demo's one-click link logs in and
leaves no token in the address bar; the cookie is HttpOnly; logging out ends the session; each
role sees only the pages and controls it may use (and the page asks the hub for nothing else)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Browser, Page

from tests.dashboards.support import (
    ROOT,
    DashboardHub,
    Watched,
    open_page,
    screenshot,
    untranslated,
    watched,
)
from tests.users import user_token

CATALOGUE = json.loads((ROOT / "dashboards/web/i18n/zh-CN.json").read_text(encoding="utf-8"))


def ready(page: Page) -> None:
    page.wait_for_function("document.documentElement.dataset.ready === 'true'")


def nav(page: Page) -> list[str]:
    return page.locator("nav.nav a").evaluate_all("links => links.map(a => a.pathname)")


def only_unauthorised(w: Watched) -> list[str]:
    """Problems other than the 401s a page meets before logging in (and after logging out),
    and the loads it aborts by leaving for the login page."""
    return [p for p in w.problems if "401" not in p and "net::ERR_ABORTED" not in p]


def test_log_in_come_back_log_out(browser: Browser, hub: DashboardHub) -> None:
    with watched(browser) as w:
        page = w.page
        page.goto(hub.url + "/checkins?site=centre-02")
        page.wait_for_url("**/login?next=*")
        assert parse_qs(urlparse(page.url).query)["next"] == ["/checkins?site=centre-02"]
        ready(page)
        assert untranslated(page) == []
        screenshot(w, "login-desktop-zh-CN")

        page.fill("#token", "yp_wrong")
        page.click("#login-submit")
        problem = page.locator("#login-problem")
        problem.wait_for(state="visible")
        assert problem.inner_text() == CATALOGUE["login.rejected"]

        page.fill("#token", hub.token)
        page.click("#login-submit")
        page.wait_for_url(hub.url + "/checkins?site=centre-02")
        ready(page)
        assert page.locator("#user").is_visible()
        cookies = {c["name"]: c for c in page.context.cookies()}
        session = cookies["yp_session"]
        assert session["httpOnly"] is True
        assert session["sameSite"] == "Strict"
        assert session["secure"] is True, "the test hub runs in production mode"
        assert "yp_session" not in page.evaluate("document.cookie"), "no script can read it"
        stored = page.evaluate("JSON.stringify({...localStorage, ...sessionStorage})")
        assert hub.token not in stored

        page.click("#logout")
        page.wait_for_url(hub.url + "/login")
        assert "yp_session" not in {c["name"] for c in page.context.cookies()}
        page.goto(hub.url + "/operations")
        page.wait_for_url("**/login?next=%2Foperations")
        assert only_unauthorised(w) == [], w.problems


def test_the_login_link_logs_in_and_leaves_no_token_behind(
    browser: Browser, hub: DashboardHub
) -> None:
    token = user_token(hub.settings.database_url, "centre_staff", centre="centre-01")
    with watched(browser) as w:
        page = w.page
        page.goto(f"{hub.url}/login#token={token}")
        page.wait_for_url(hub.url + "/")
        ready(page)
        assert token not in page.url
        assert nav(page) == ["/", "/checkins"]
        assert page.locator(".tile").count() == 1
        assert only_unauthorised(w) == [], "(leaving the login page may abort its icon)"
        w.problems.clear()

        open_page(w, hub.url + "/checkins")
        centre = page.locator("#centre")
        assert centre.is_disabled()
        assert centre.input_value() == "centre-01"
        assert centre.locator("option").count() == 1
        assert page.locator("#readers-table tbody tr").count() == 1, "its own reader"
        screenshot(w, "checkins-centre-staff-desktop-zh-CN")
        page.go_back()  # the login page replaced itself in the history: no token there either
        ready(page)
        assert page.url == hub.url + "/"

        open_page(w, hub.url + "/operations")
        notice = page.locator("#notice")
        assert notice.inner_text() == CATALOGUE["auth.forbidden"]
        assert page.locator("#edges-table").count() == 0, "nothing was asked of the hub"
        assert w.problems == [], "no request the role may not make"


def test_each_role_sees_only_what_it_may_use(browser: Browser, hub: DashboardHub) -> None:
    viewer = user_token(hub.settings.database_url, "viewer")
    with watched(browser, login=hub, token=viewer) as w:
        open_page(w, hub.url + "/")
        assert nav(w.page) == ["/", "/venues", "/records"]
        open_page(w, hub.url + "/records")
        assert w.page.locator("#tab-assessment").is_hidden()
        assert w.page.locator("#sharing").is_visible()
        assert w.page.locator("#sharing-venues tbody tr").count() == 5
        open_page(w, hub.url + "/venues")
        assert w.page.locator(".venue-card").count() == 5
        screenshot(w, "records-viewer-desktop-zh-CN")
        assert w.problems == []

    clerk = user_token(hub.settings.database_url, "records_staff")
    with watched(browser, login=hub, token=clerk) as w:
        open_page(w, hub.url + "/")
        assert nav(w.page) == ["/", "/venues", "/checkins", "/records"]
        open_page(w, hub.url + "/checkins")
        options = w.page.locator("#centre option").evaluate_all("os => os.map(o => o.value)")
        assert options == ["", "centre-01", "centre-02"], "every centre, from the records"
        assert w.page.locator("#readers").is_hidden(), "readers are for operators and centres"
        assert w.page.locator("#stat-readers").count() == 0
        open_page(w, hub.url + "/records")
        assert w.page.locator("#tab-assessment").is_visible()
        assert w.problems == []

    manager = user_token(hub.settings.database_url, "venue_manager", unit=6)
    with watched(browser, login=hub, token=manager) as w:
        open_page(w, hub.url + "/venues")
        cards = w.page.locator(".venue-card").evaluate_all("cs => cs.map(c => c.dataset.venue)")
        assert sorted(cards) == ["venue-01", "venue-05"], "its unit's venues"
        open_page(w, hub.url + "/venue?id=venue-01")
        assert w.page.locator("#live-state").get_attribute("data-state") == "open"
        assert w.problems == []
