"""The admin pages (/admin?kind=…) in Chromium: an operator registers a venue with its hours and
a closure and provisions its site; a venue manager changes only its own unit's venues; the hub's
refusals are shown beside their fields; hostile names stay text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.dashboards.support import DashboardHub, open_page, screenshot, untranslated, watched
from tests.dashboards.test_hostile_data import HOSTILE, assert_inert, make_hostile
from tests.users import bearer, user_token

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

NAMED = {
    "subdistricts",
    "communities",
    "units",
    "alliances",
    "service-centres",
    "venue-registry",
    "volunteer-teams",
}


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
            if kind in NAMED:
                assert HOSTILE in w.page.locator("#admin-table").inner_text(), f"{kind}: names"
            if kind != "sites":  # a row's form, its selects full of hostile names
                w.page.locator("#admin-table a[data-edit]").first.click()
                w.page.locator("#admin-form").wait_for()
                w.page.wait_for_function("() => document.documentElement.dataset.ready === 'true'")
                assert_inert(w.page, f"{kind}, a row's form")
        assert w.problems == [], w.problems


# --- an operator, from a new venue to its provisioned site ------------------------------------

NEW_VENUE = "venue-77"


def api(
    hub: DashboardHub, method: str, path: str, token: str | None = None, **kwargs: Any
) -> httpx.Response:
    headers = bearer(token or hub.token)
    return httpx.request(method, hub.url + path, headers=headers, timeout=10, **kwargs)


def ready(page: Page) -> None:
    page.wait_for_function("() => document.documentElement.dataset.ready === 'true'")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_an_operator_registers_a_venue_with_hours_and_a_closure_and_provisions_its_site(
    browser: Browser, request: pytest.FixtureRequest, database: str
) -> None:
    live_hub: DashboardHub = request.getfixturevalue(
        "live_hub" if database == "sqlite" else "pg_hub"
    )
    unit = live_hub.get("/api/v1/units", limit=1)["data"][0]["id"]
    community = live_hub.get("/api/v1/communities", limit=1)["data"][0]["id"]
    with watched(browser, login=live_hub) as w:
        page = w.page
        open_page(w, live_hub.url + "/admin?kind=venue-registry")
        page.locator("#new").click()
        page.locator("#admin-form").wait_for()
        ready(page)
        page.fill("#f-id", NEW_VENUE)
        page.fill("#f-name", "新城全民健身中心")
        page.select_option("#f-kind", "sports_ground")
        page.select_option("#f-unit_id", str(unit))
        page.select_option("#f-community_id", str(community))
        page.fill("#f-address", "原平市新城路 8 号")
        page.fill("#f-capacity", "200")
        page.fill("#f-alert_threshold_pct", "80")
        page.fill("#f-opens_at", "07:00")
        page.fill("#f-closes_at", "21:00")
        screenshot(w, f"admin-venue-new-desktop-zh-CN-{database}")
        page.locator("#save").click()
        page.locator("#saved").wait_for()
        assert f"id={NEW_VENUE}" in page.url

        # the seven weekdays: Monday to Saturday 08:00–20:00, closed on Sundays
        for day in range(6):
            page.fill(f"#hours{day}-opens_at", "08:00")
            page.fill(f"#hours{day}-closes_at", "20:00")
        page.fill("#hours6-opens_at", "")
        page.fill("#hours6-closes_at", "")
        page.locator("#hours-save").click()
        page.locator("#hours-saved [data-i18n='admin.saved']").wait_for()

        page.fill("#closures-new0-starts_on", "2027-02-10")
        page.fill("#closures-new0-ends_on", "2027-02-17")
        page.fill("#closures-new0-reason", "春节闭馆")
        page.locator("#closures-save").click()
        page.locator("#closures-list", has_text="春节闭馆").wait_for()
        ready(page)
        screenshot(w, f"admin-venue-edit-desktop-zh-CN-{database}")

        page.locator("#provision").click()
        page.wait_for_url(f"**/admin?kind=sites&for={NEW_VENUE}")
        ready(page)
        assert page.input_value("#f-site_id") == NEW_VENUE
        assert page.input_value("#f-kind") == "venue"
        page.fill("#devices0-id", "gate-1")
        page.select_option("#devices0-kind", "people_counter")
        page.fill("#devices0-port", "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0")
        page.locator("#save").click()  # a people counter needs its unit_id: refused on the page
        assert page.locator("#devices0-options-error").inner_text().strip()
        page.fill("#devices0-options", "unit_id=1")
        page.locator("#save").click()
        page.locator("#bundle-download").wait_for()
        assert page.locator("#bundle [data-i18n='admin.bundle_once']").is_visible()
        screenshot(w, f"admin-site-provisioned-desktop-zh-CN-{database}")
        with page.expect_download() as download:
            page.locator("#bundle-download").click()
        bundle = Path(download.value.path()).read_text(encoding="utf-8")
        assert NEW_VENUE in bundle
        assert "gate-1" in bundle
        assert w.problems == [], w.problems

    venue = live_hub.get(f"/api/v1/venue-registry/{NEW_VENUE}")
    assert (venue["unit_id"], venue["capacity"], venue["alert_threshold_pct"]) == (unit, 200, 80)
    hours = sub_rows(live_hub, venue, "hours")
    open_days = {h["weekday"]: (h["opens_at"], h["closes_at"]) for h in hours if h["opens_at"]}
    assert open_days == {day: ("08:00:00", "20:00:00") for day in range(6)}
    closures = sub_rows(live_hub, venue, "closures")
    assert [(c["starts_on"], c["ends_on"], c["reason"]) for c in closures] == [
        ("2027-02-10", "2027-02-17", "春节闭馆")
    ]
    site = live_hub.get(f"/api/v1/sites/{NEW_VENUE}")
    assert site["kind"] == "venue"
    assert site["account"]["state"] == "active"
    _every_write_is_in_the_audit_log(live_hub)


def _every_write_is_in_the_audit_log(hub: DashboardHub) -> None:
    """What the pages wrote, each row with the user, the request and its values."""
    me = hub.get("/api/v1/me")["username"]

    def entries(table: str) -> list[dict[str, Any]]:
        found = hub.get("/api/v1/audit", table=table, actor=me, limit=100)["data"]
        return [e for e in found if e["row_id"].split("/")[0] == NEW_VENUE]

    (venue,) = entries("venues")
    assert venue["action"] == "create"
    assert venue["source"] == "api"
    assert venue["request"] == "POST /api/v1/venue-registry"
    assert (venue["after"]["capacity"], venue["after"]["alert_threshold_pct"]) == (200, 80)
    hours = entries("venue_hours")
    assert {e["row_id"] for e in hours} >= {f"{NEW_VENUE}/{day}" for day in range(6)}
    assert all(e["after"] is not None for e in hours if e["action"] == "create")
    closures = hub.get("/api/v1/audit", table="venue_closures", actor=me)["data"]
    assert any(e["after"] and e["after"]["reason"] == "春节闭馆" for e in closures)
    (account,) = entries("site_accounts")
    assert account["action"] == "create"
    assert account["after"]["password_hash"] == "(redacted)"


def sub_rows(hub: DashboardHub, row: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """A venue's hours or closures: in its detail, or at their own route."""
    if name in row:
        return list(row[name])
    found = hub.get(f"/api/v1/venue-registry/{row['id']}/{name}")
    return list(found if isinstance(found, list) else found.get("data", found.get(name)))


# --- venue managers ---------------------------------------------------------------------------


def test_a_venue_manager_of_another_unit_sees_no_form_and_the_hub_refuses(
    browser: Browser, hub: DashboardHub
) -> None:
    venue = hub.get("/api/v1/venue-registry/venue-01")
    other = next(u["id"] for u in hub.get("/api/v1/units")["data"] if u["id"] != venue["unit_id"])
    token = user_token(hub.settings.database_url, "venue_manager", unit=other)
    with watched(browser, login=hub, token=token) as w:
        open_page(w, hub.url + "/admin")
        assert w.page.locator(".kind-list a").evaluate_all("as => as.map(a => a.id)") == [
            "kind-venue-registry"
        ]
        open_page(w, hub.url + "/admin?kind=units")  # any other kind: not at all
        w.page.locator("#admin-notice [data-i18n='auth.forbidden']").wait_for()
        assert w.page.locator("#admin-table, #admin-form, #new").count() == 0
        open_page(w, hub.url + "/admin?kind=venue-registry&id=venue-01")
        w.page.locator("#admin-notice [data-i18n='admin.not_yours']").wait_for()
        assert w.page.locator("#admin-form").count() == 0
        assert w.page.locator("#sub-panels section").count() == 0
        assert w.page.locator("#new, #import").count() == 0
        listed = w.page.locator("#admin-table tbody tr[data-id]").evaluate_all(
            "rows => rows.map(r => r.dataset.id)"
        )
        assert "venue-01" not in listed
        assert w.problems == [], w.problems
    refused = api(hub, "PATCH", "/api/v1/venue-registry/venue-01", token, json={"capacity": 999})
    assert refused.status_code == 403
    assert hub.get("/api/v1/venue-registry/venue-01")["capacity"] == venue["capacity"]


def test_a_venue_manager_changes_its_venues_capacity_and_threshold(
    browser: Browser, live_hub: DashboardHub
) -> None:
    venue = live_hub.get("/api/v1/venue-registry/venue-01")
    token = user_token(live_hub.settings.database_url, "venue_manager", unit=venue["unit_id"])
    with watched(browser, login=live_hub, token=token) as w:
        page = w.page
        open_page(w, live_hub.url + "/admin?kind=venue-registry")
        page.locator("#admin-table a[data-edit='venue-01']").click()
        page.locator("#admin-form").wait_for()
        ready(page)
        enabled = page.locator("#admin-form [data-field]:is(input, select):enabled").evaluate_all(
            "els => els.map(e => e.name)"
        )
        assert sorted(enabled) == ["alert_threshold_pct", "capacity"]
        assert page.locator("#archive, #provision, #new, #import").count() == 0
        assert page.locator("#sub-hours").is_visible()
        assert page.locator("#sub-closures").is_visible()
        page.fill("#f-capacity", "0")
        page.locator("#save").click()  # out of bounds: refused on the page, nothing sent
        page.locator("#f-capacity-error [data-i18n='admin.invalid.range']").wait_for()
        page.fill("#f-capacity", "321")
        page.fill("#f-alert_threshold_pct", "75")
        page.locator("#save").click()
        page.locator("#saved").wait_for()
        assert page.input_value("#f-capacity") == "321"
        screenshot(w, "admin-venue-manager-desktop-zh-CN")
        assert w.problems == [], w.problems
    changed = live_hub.get("/api/v1/venue-registry/venue-01")
    assert (changed["capacity"], changed["alert_threshold_pct"]) == (321, 75)
    assert changed["name"] == venue["name"]


# --- the hub's refusals -----------------------------------------------------------------------


def test_a_duplicate_code_is_shown_beside_the_code_field(
    browser: Browser, live_hub: DashboardHub
) -> None:
    taken = live_hub.get("/api/v1/subdistricts", limit=1)["data"][0]["code"]
    with watched(browser, "tablet", "en", login=live_hub) as w:
        page = w.page
        open_page(w, live_hub.url + "/admin?kind=subdistricts&new=1")
        page.locator("#admin-form").wait_for()
        page.fill("#f-code", taken)
        page.fill("#f-name", "测试重复代码街道")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.locator("#save").click()
        assert answer.value.status == 409
        error = page.locator("#f-code-error")
        error.locator("[data-value]").wait_for()
        assert taken in error.inner_text()
        assert page.locator("#f-code").get_attribute("aria-invalid") == "true"
        assert page.locator("#f-name-error").inner_text() == ""
        screenshot(w, "admin-refusal-tablet-en")

        # an import with one bad row: none taken, the row and its column named on the page
        template = api(live_hub, "GET", "/api/v1/imports/subdistricts/template?format=csv")
        header = template.text.splitlines()[0]
        rows = f"{header}\nSD90,测试导入街道\nbad code!,测试导入街道二\n"
        file = {"name": "subdistricts.csv", "mimeType": "text/csv", "buffer": rows.encode()}
        with page.expect_response(lambda r: "/api/v1/imports/" in r.url) as imported:
            page.set_input_files("#import-file", files=[file])
        assert imported.value.status == 422
        errors = page.locator("#import-errors tbody tr")
        errors.first.wait_for()
        assert errors.count() == 1
        assert errors.first.locator("td").first.inner_text() == "3"
        # the refusal is the one problem the page met
        refused = [p for p in w.problems if "409" in p or "422" in p or "Failed to load" in p]
        assert len(refused) == len(w.problems)
        # archived: gone from the list unless asked for, and restored again
        archived = live_hub.get("/api/v1/subdistricts")["data"][-1]
        open_page(w, f"{live_hub.url}/admin?kind=subdistricts&id={archived['id']}")
        page.locator("#archive").click()
        page.locator("#restore").wait_for()
        ready(page)
        listed = page.locator(f"#admin-table tr[data-id='{archived['id']}']")
        assert listed.count() == 0
        page.locator("#archived").check()
        listed.locator("[data-i18n='admin.archived']").wait_for()
        page.locator("#restore").click()
        page.locator("#archive").wait_for()
        ready(page)
        assert listed.count() == 1
    names = {s["name"] for s in live_hub.get("/api/v1/subdistricts")["data"]}
    assert not names & {"测试重复代码街道", "测试导入街道"}, "neither the refusal nor the import"
