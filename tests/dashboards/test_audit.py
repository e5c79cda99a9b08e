"""The audit page in Chromium: an operator finds the change an API write made, with the value
before and after and who made it; a venue manager has no audit page in the menu and gets none
of its data (403)."""

from __future__ import annotations

import json

import httpx
import sqlalchemy as sa
from playwright.sync_api import Browser, Page

from hub.auth import Role
from hub.core.db import make_engine
from hub.org.models import Member
from tests.dashboards.support import ROOT, DashboardHub, open_page, screenshot, watched
from tests.users import bearer, user_token

CATALOGUE = json.loads((ROOT / "dashboards/web/i18n/zh-CN.json").read_text(encoding="utf-8"))
NEW_NAME = "王审计"


def _stored_name(hub: DashboardHub, member_id: int) -> str:
    engine = make_engine(hub.settings.database_url)
    try:
        with engine.connect() as conn:
            return str(conn.scalar(sa.select(Member.name).where(Member.id == member_id)))
    finally:
        engine.dispose()


def _nav(page: Page) -> list[str | None]:
    links = page.locator("nav.nav a")
    return [links.nth(i).get_attribute("href") for i in range(links.count())]


def test_an_operator_sees_an_api_write_with_before_and_after(
    browser: Browser, live_hub: DashboardHub
) -> None:
    hub = live_hub
    before = _stored_name(hub, 1)
    api = httpx.Client(base_url=hub.url, headers=bearer(hub.token), timeout=10)
    with api:
        me = api.get("/api/v1/me").json()["username"]
        changed = api.patch("/api/v1/members/1", json={"name": NEW_NAME})
        assert changed.status_code == 200, changed.text

    with watched(browser, login=hub) as w:
        page = w.page
        open_page(w, hub.url + "/audit")
        assert "/audit" in _nav(page)
        page.fill("#f-table", "members")
        page.fill("#f-row-id", "1")
        page.select_option("#f-action", "update")
        page.click("#f-apply")
        entry = page.locator("#audit-entries tbody tr[data-entry]")
        entry.wait_for()
        assert entry.count() == 1
        name = entry.locator('li[data-column="name"]')
        assert name.locator(".before").inner_text() == before
        assert name.locator(".after").inner_text() == NEW_NAME
        assert before != NEW_NAME
        assert me in entry.inner_text()
        assert "PATCH /api/v1/members/1" in entry.inner_text()
        assert "table=members" in page.url, "the filters are in the address"
        screenshot(w, "audit-desktop-zh-CN")
        assert w.problems == []


def test_a_venue_manager_gets_no_audit_page(browser: Browser, hub: DashboardHub) -> None:
    token = user_token(hub.settings.database_url, Role.VENUE_MANAGER, unit=1)
    with watched(browser, login=hub, token=token) as w:
        page = w.page
        open_page(w, hub.url + "/")
        assert "/audit" not in _nav(page)
        open_page(w, hub.url + "/audit")
        assert page.locator("#notice").inner_text() == CATALOGUE["auth.forbidden"]
        assert page.locator("#audit-entries").count() == 0, "nothing was asked of the hub"
        assert w.problems == [], "no request the role may not make"
        refused = page.context.request.get(hub.url + "/api/v1/audit")
        assert refused.status == 403
        assert page.context.request.get(hub.url + "/api/v1/audit/1").status == 403
