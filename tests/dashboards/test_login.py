"""Logging in to the dashboard in headless Chromium: a page without a session goes to the login
page and comes back after it, never to another site whatever ``next`` says; a wrong token is
refused; a one-click link logs in once with a code and carries no token; Enter pressed before the
page is ready puts no token in an address; the cookie is HttpOnly; logging out ends the session;
each role sees only the pages and controls it may use (and the page asks the hub for nothing
else)."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import httpx
from playwright.sync_api import Browser, Page, Route
from sqlalchemy.orm import Session

from hub.auth.users import issue_login_code
from hub.core.db import make_engine
from tests.dashboards.support import (
    ROOT,
    DashboardHub,
    Watched,
    open_page,
    screenshot,
    untranslated,
    watched,
)
from tests.users import bearer, user_token

CATALOGUE = json.loads((ROOT / "dashboards/web/i18n/zh-CN.json").read_text(encoding="utf-8"))


def ready(page: Page) -> None:
    page.wait_for_function("() => document.documentElement.dataset.ready === 'true'")


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


def login_code(hub: DashboardHub, username: str) -> str:
    engine = make_engine(hub.settings.database_url)
    try:
        with Session(engine) as db:
            return issue_login_code(db, username, timedelta(minutes=10))
    finally:
        engine.dispose()


def test_the_login_link_logs_in_once_and_carries_no_token(
    browser: Browser, hub: DashboardHub
) -> None:
    token = user_token(hub.settings.database_url, "centre_staff", centre="centre-01")
    name = httpx.get(f"{hub.url}/api/v1/me", headers=bearer(token)).json()["username"]
    code = login_code(hub, name)
    with watched(browser) as w:
        page = w.page
        addresses: list[str] = []
        page.on("request", lambda request: addresses.append(request.url))
        page.goto(f"{hub.url}/login#code={code}")
        page.wait_for_url(hub.url + "/")
        ready(page)
        assert code not in page.url
        assert not [a for a in addresses if token in a], "the token is in no address"
        assert nav(page) == ["/", "/checkins", "/requests", "/notifications"]
        assert page.locator(".tile").count() == 1
        assert only_unauthorised(w) == [], "(leaving the login page may abort its icon)"
        w.clear()

        open_page(w, hub.url + "/checkins")
        centre = page.locator("#centre")
        assert centre.is_disabled()
        assert centre.input_value() == "centre-01"
        assert centre.locator("option").count() == 1
        assert page.locator("#readers-table tbody tr").count() == 1, "its own reader"
        screenshot(w, "checkins-centre-staff-desktop-zh-CN")
        page.go_back()  # the login page replaced itself in the history
        ready(page)
        assert page.url == hub.url + "/"

        open_page(w, hub.url + "/operations")
        notice = page.locator("#notice")
        assert notice.inner_text() == CATALOGUE["auth.forbidden"]
        assert page.locator("#problems-table").count() == 0, "nothing was asked of the hub"
        assert w.problems == [], "no request the role may not make"

    with watched(browser) as w:  # the same link again, as the browser's history keeps it
        w.page.goto(f"{hub.url}/login#code={code}")
        ready(w.page)
        problem = w.page.locator("#login-problem")
        problem.wait_for(state="visible")
        assert problem.inner_text() == CATALOGUE["login.link_spent"]
        assert w.page.url == hub.url + "/login", "the code is out of the address bar"
        assert "yp_session" not in {c["name"] for c in w.page.context.cookies()}


HOSTILE_NEXT = (
    "/%09/evil.example/x",
    "/%0a/evil.example/x",
    "/%0d/evil.example/x",
    "/%09%5cevil.example/x",
    "/%5c%09evil.example/x",
    "%2f%2fevil.example/x",
    "/%5cevil.example/x",
    "https://evil.example/x",
    "javascript:alert(1)",
)
"""``next`` values that a browser resolves to another site (tabs and newlines dropped, a
backslash read as a slash) or to a script."""


def test_a_hostile_next_never_leaves_the_hub(browser: Browser, hub: DashboardHub) -> None:
    with watched(browser) as w:
        page = w.page
        page.route(
            lambda url: urlparse(url).hostname == "evil.example",
            lambda route: route.fulfill(body="evil"),
        )
        for raw in HOSTILE_NEXT:
            page.goto(f"{hub.url}/login?next={raw}")
            ready(page)
            page.fill("#token", hub.token)
            page.click("#login-submit")
            page.wait_for_url(lambda url: "/login" not in url)
            assert page.url == hub.url + "/", raw  # (the home page need not finish loading)
        page.goto(f"{hub.url}/login?next=/checkins%3Fsite%3Dcentre-02%23feed")
        ready(page)
        page.fill("#token", hub.token)
        page.click("#login-submit")
        page.wait_for_url(hub.url + "/checkins?site=centre-02#feed")


def test_pressing_enter_at_once_never_puts_the_token_in_an_address(
    browser: Browser, hub: DashboardHub
) -> None:
    for held in ("**/i18n/*.json", "**/js/pages/login.js"):
        addresses = enter_while_held(browser, hub, held)
        assert not [a for a in addresses if hub.token in a], held
        assert not [a for a in addresses if "token=" in a], held


class Gate:
    """A route handler that holds requests back until ``open``, then lets every one through."""

    def __init__(self) -> None:
        self.waiting: list[Route] = []
        self.opened = False

    def __call__(self, route: Route) -> None:
        if self.opened:
            route.continue_()
        else:
            self.waiting.append(route)

    def open(self) -> None:
        self.opened = True
        for route in self.waiting:
            route.continue_()


def enter_while_held(browser: Browser, hub: DashboardHub, held: str) -> list[str]:
    """Type the token and press Enter while the responses matching ``held`` are held back (the
    catalogue, or the page's own script), then let them go and log in; every address the page
    asked for or went to."""
    addresses: list[str] = []
    with watched(browser) as w:
        page = w.page
        page.on("request", lambda request: addresses.append(request.url))
        page.on("framenavigated", lambda frame: addresses.append(frame.url))
        gate = Gate()
        page.route(held, gate)
        page.goto(hub.url + "/login", wait_until="commit")  # a held script holds the rest
        for _ in range(1000):  # at most 10 s for the request to reach the route
            if gate.waiting:
                break
            page.wait_for_timeout(10)
        assert gate.waiting, f"{held} was never asked for"
        page.fill("#token", hub.token)
        page.press("#token", "Enter")
        gate.open()
        if held.endswith("login.js"):  # Enter did nothing: still the same page, not yet ready
            ready(page)
            assert page.url == hub.url + "/login"
            page.press("#token", "Enter")
        page.wait_for_url(hub.url + "/")
        ready(page)
    return addresses


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
        assert nav(w.page) == ["/", "/venues", "/checkins", "/records", "/requests", "/admin"]
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
