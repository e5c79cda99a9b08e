"""The public venue page on a phone-sized Chromium: anonymous, zh-CN first with the English
switch, every venue with its level, filters, nearest first once the browser gives a location,
the map coloured by level, one venue with its QR code and the print view; no console error, no
request outside the hub, nothing overflowing the phone's width. And the staff's venues page
draws the same map."""

from __future__ import annotations

from playwright.sync_api import Browser, Request

from tests.dashboards.support import (
    VIEWPORTS,
    DashboardHub,
    open_page,
    screenshot,
    untranslated,
    watched,
)

WIDTH_JS = "() => document.documentElement.scrollWidth"


def test_the_public_page_on_a_phone(browser: Browser, hub: DashboardHub) -> None:
    venues = hub.get("/public/v1/venues")["data"]
    assert len(venues) >= 2, "the seeded city has venues"
    outside: list[str] = []
    with watched(browser, "phone") as w:
        page = w.page

        def leaves(request: Request) -> None:
            if not request.url.startswith((hub.url, "data:")):
                outside.append(request.url)

        page.on("request", leaves)
        open_page(w, hub.url + "/public")
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        cards = page.locator(".public-card")
        assert cards.count() == len(venues)
        sorting = page.locator("#sorted [data-i18n]")
        assert sorting.get_attribute("data-i18n") == "public.sorted_by_name", "no location yet"
        first_by_name = cards.first.get_attribute("data-venue")
        shown = {c.get_attribute("data-venue"): c.get_attribute("data-level") for c in cards.all()}
        assert shown == {v["id"]: v["level"] for v in venues}
        dots = page.locator("#map circle.venue-dot")
        placed = [v for v in venues if v["latitude"] is not None]
        assert dots.count() == len(placed) > 0
        assert untranslated(page) == []
        assert page.evaluate(WIDTH_JS) <= VIEWPORTS["phone"]["width"], "fits the phone"
        screenshot(w, "public-phone-zh")

        # a filter by kind narrows the list to that kind
        kind = venues[0]["kind"]
        page.select_option("#kind", kind)
        assert cards.count() == sum(v["kind"] == kind for v in venues)
        page.select_option("#kind", "")

        # English, without a reload
        page.click("#lang-switch")
        page.wait_for_function("() => document.documentElement.lang === 'en'")
        assert page.locator("#report").inner_text() == "Report a problem"
        assert page.locator("#report").get_attribute("href") == "/public/request"
        assert untranslated(page) == []

        # nearest first once the browser gives a location: stand at a venue not first by name
        far = next(v for v in venues if v["latitude"] is not None and v["id"] != first_by_name)
        page.context.grant_permissions(["geolocation"], origin=hub.url)
        page.context.set_geolocation({"latitude": far["latitude"], "longitude": far["longitude"]})
        open_page(w, hub.url + "/public")
        first = page.locator(".public-card").first
        page.wait_for_function(
            "(id) => document.querySelector('.public-card')?.dataset.venue === id", arg=far["id"]
        )
        assert first.get_attribute("data-venue") == far["id"]
        assert sorting.get_attribute("data-i18n") == "public.sorted_by_distance"

        # one venue: its card and QR code; the print view
        one = venues[0]["id"]
        open_page(w, f"{hub.url}/public/venues/{one}")
        assert page.locator(".public-card").count() == 1
        qr = page.locator(".public-qr img")
        page.wait_for_function("() => document.querySelector('.public-qr img').complete")
        assert qr.evaluate("img => img.naturalWidth") > 0, "the QR code loaded"
        open_page(w, f"{hub.url}/public/venues/{one}/print")
        assert page.locator(f"#print-{one} img").count() == 1
        screenshot(w, "public-print")
        assert page.evaluate(WIDTH_JS) <= VIEWPORTS["phone"]["width"], "the sheet fits too"
        assert w.problems == []
    assert outside == [], "the page fetched something outside the hub"

    # the staff's venues page draws the same map
    with watched(browser, login=hub) as w:
        open_page(w, hub.url + "/venues")
        w.page.locator("#venue-map circle.venue-dot").first.wait_for()
        assert w.page.locator("#venue-map circle.venue-dot").count() == len(placed)
        assert w.problems == []
