"""The browser side of the hub's defences, in Chromium: every page (and ``/docs``) lives within
its Content-Security-Policy, and a page of another origin on the same host (the same *site*, so
the SameSite=Strict cookie rides along) cannot make a logged-in operator's browser revoke a user
or import a unit."""

from __future__ import annotations

import json

import httpx
import sqlalchemy as sa
from playwright.sync_api import Browser, Route

from hub.core.db import make_engine
from tests.dashboards.support import DashboardHub, open_page, watched
from tests.users import bearer, user_token

PAGES = (
    "/",
    "/venues",
    "/venue?id=venue-01",
    "/checkins",
    "/operations",
    "/site?id=centre-01",
    "/records",
    "/admin?kind=venue-registry&new=1",
    "/admin?kind=sites&for=venue-01",
)


def test_every_page_keeps_within_its_policy(browser: Browser, hub: DashboardHub) -> None:
    with watched(browser, login=hub) as w:
        for path in PAGES:
            open_page(w, hub.url + path)
            for chart in w.page.locator("[data-chart] canvas").all():  # tooltips, too
                box = chart.bounding_box()
                assert box is not None
                w.page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2)
        assert w.problems == [], "a console error, a CSP violation among them"

    with watched(browser) as w:  # the login page, and Swagger UI from the package
        open_page(w, hub.url + "/login")
        w.page.goto(hub.url + "/docs")
        summary = w.page.locator(".opblock-summary-control").first  # GET /healthz
        summary.wait_for(timeout=60_000)  # a 1.7 MB script to parse: generous on a busy machine
        summary.click()
        w.page.locator(".try-out__btn").first.click()
        w.page.locator(".execute").first.click()
        w.page.locator(".live-responses-table").first.wait_for()
        assert w.problems == []


def test_a_page_of_another_origin_cannot_forge_an_operators_requests(
    browser: Browser, hub: DashboardHub
) -> None:
    victim = user_token(hub.settings.database_url, "viewer")
    name = httpx.get(f"{hub.url}/api/v1/me", headers=bearer(victim)).json()["username"]
    port = int(hub.url.rsplit(":", 1)[1])
    sibling = f"http://127.0.0.1:{port + 1}"  # the same host and site, another origin
    attack = f"""<!doctype html><html><body>
<form id="f" method="post" enctype="text/plain" action="{hub.url}/api/v1/imports/units">
<input name="code,name,kind&#10;U901,Evil" value="Unit,other"></form>
<script>
fetch({json.dumps(hub.url + f"/api/v1/users/{name}/revoke")},
      {{method: "POST", mode: "no-cors", credentials: "include"}})
  .finally(() => {{ document.title = "sent"; document.getElementById("f").submit(); }});
</script></body></html>"""
    with watched(browser, login=hub) as w:
        page = w.page
        page.route(f"{sibling}/**", lambda route: _fulfil(route, attack))
        with page.expect_response(f"{hub.url}/api/v1/imports/units") as posted:
            page.goto(f"{sibling}/attack")
        assert posted.value.status == 403, "the form post was refused"
    users = {u["username"]: u for u in hub.get("/api/v1/users")["data"]}
    assert users[name]["revoked_at"] is None, "the forged revoke was refused"
    engine = make_engine(hub.settings.database_url)
    try:
        with engine.connect() as conn:
            query = sa.text("SELECT count(*) FROM units WHERE code = 'U901'")
            assert conn.execute(query).scalar_one() == 0, "no unit was imported"
    finally:
        engine.dispose()


def _fulfil(route: Route, html: str) -> None:
    route.fulfill(body=html, content_type="text/html")
