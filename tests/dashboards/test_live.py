"""What is published on MQTT reaches the open page, with no reload; a page that loses
the hub says so and picks up again by itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from playwright.sync_api import Browser

from mqtt_contract import topics
from mqtt_contract.topics import EventKind
from tests.dashboards.support import (
    DashboardHub,
    gate_reading,
    heartbeat,
    open_page,
    tap,
    watched,
)
from tests.hub.support import EdgeClient, wait_until

MakeEdge = Callable[..., EdgeClient]
LIVE_MS = 15_000
"""How long a test waits for a live update. The promise (on screen within 1 s of reaching the
hub) is measured by ``benchmarks/dashboard_load.py``; a test only waits for the update to come,
generously, so that a loaded machine cannot fail it."""


def _mark_no_reload(page: object) -> None:
    page.evaluate("window.__same_page = true")  # type: ignore[attr-defined]


def _same_page(page: object) -> bool:
    return bool(page.evaluate("window.__same_page === true"))  # type: ignore[attr-defined]


def test_a_tap_is_on_the_checkins_page_live(
    browser: Browser, live_hub: DashboardHub, edge: MakeEdge
) -> None:
    client = edge("centre-01")
    with watched(browser, login=live_hub) as w:
        open_page(w, live_hub.url + "/checkins?site=centre-01")
        _mark_no_reload(w.page)
        before = w.page.locator("#stat-today .figure").inner_text()
        for seq in (1001, 1002):
            event = tap("centre-01", seq, datetime.now(UTC), card="FFEE001122", decision="unknown")
            client.publish(
                topics.event("centre-01", "reader-1", EventKind.CHECKIN), event.to_bytes()
            )
            row = w.page.wait_for_selector(
                f'#feed-table tr[data-event-id="{event.id}"]', timeout=LIVE_MS
            )
            assert row is not None
        top = w.page.locator("#feed-table tbody tr").first
        assert top.get_attribute("data-event-id") == str(event.id), "newest first"
        assert top.locator(".badge").inner_text() == "未登记卡"
        assert "FFEE001122" not in w.page.content()
        assert int(w.page.locator("#stat-today .figure").inner_text()) == int(before) + 2
        # Another centre's tap, committed before a marker tap of this centre: the stream keeps
        # commit order, so once the marker is on the page the other tap would be there too.
        other = tap("centre-02", 1003, datetime.now(UTC))
        edge("centre-02").publish(
            topics.event("centre-02", "reader-1", EventKind.CHECKIN), other.to_bytes()
        )
        wait_until(
            lambda: any(
                row["event_id"] == str(other.id)
                for row in live_hub.get("/api/v1/checkins", site="centre-02", limit=5)["data"]
            ),
            what="the other centre's tap to be committed",
        )
        marker = tap("centre-01", 1004, datetime.now(UTC))
        client.publish(topics.event("centre-01", "reader-1", EventKind.CHECKIN), marker.to_bytes())
        w.page.wait_for_selector(f'tr[data-event-id="{marker.id}"]', timeout=LIVE_MS)
        assert w.page.locator(f'tr[data-event-id="{other.id}"]').count() == 0, "another centre"
        assert _same_page(w.page)
        assert w.problems == []


def test_device_state_and_dead_letters_reach_operations_live(
    browser: Browser, live_hub: DashboardHub, edge: MakeEdge
) -> None:
    client = edge("centre-01")
    with watched(browser, login=live_hub) as w:
        open_page(w, live_hub.url + "/operations")
        _mark_no_reload(w.page)
        degraded = heartbeat("centre-01", {"reader-1": ("card_reader", "degraded")})
        client.publish(topics.health("centre-01"), degraded.to_bytes())
        w.page.wait_for_selector(
            '#devices-table tr[data-site="centre-01"][data-device="reader-1"][data-state="degraded"]',
            timeout=LIVE_MS,
        )
        client.publish(topics.event("centre-01", "reader-1", EventKind.CHECKIN), b"\xff\xfe")
        w.page.wait_for_function(
            "() => document.querySelectorAll('#dead-letters-table tbody tr').length === 3",
            timeout=LIVE_MS,
        )
        assert "非 UTF-8" in w.page.locator("#dead-letters-table tbody tr").first.inner_text()
        assert _same_page(w.page)
        assert w.problems == []


def test_a_page_that_loses_the_hub_says_so_and_reconnects_by_itself(
    browser: Browser, live_hub: DashboardHub, edge: MakeEdge
) -> None:
    client = edge("centre-01")
    with watched(browser, login=live_hub) as w:
        open_page(w, live_hub.url + "/checkins?site=centre-01")
        _mark_no_reload(w.page)
        pill = w.page.locator("#live-state")
        assert pill.get_attribute("data-state") == "open"
        assert pill.inner_text() == "实时"

        live_hub.stop_api()
        w.page.wait_for_function(
            "() => document.getElementById('live-state').dataset.state !== 'open'", timeout=LIVE_MS
        )
        assert pill.inner_text() in {"正在连接…", "连接已断开，正在重连"}
        missed = tap("centre-01", 2001, datetime.now(UTC))  # committed while the page is cut off
        client.publish(topics.event("centre-01", "reader-1", EventKind.CHECKIN), missed.to_bytes())

        live_hub.start_api()
        w.page.wait_for_function(
            "() => document.getElementById('live-state').dataset.state === 'open'",
            timeout=2 * LIVE_MS,
        )
        w.page.wait_for_selector(f'tr[data-event-id="{missed.id}"]', timeout=LIVE_MS)
        fresh = tap("centre-01", 2002, datetime.now(UTC))
        client.publish(topics.event("centre-01", "reader-1", EventKind.CHECKIN), fresh.to_bytes())
        w.page.wait_for_selector(f'tr[data-event-id="{fresh.id}"]', timeout=LIVE_MS)
        assert _same_page(w.page), "no reload"
        # while the hub was away the page's reconnects were refused (how many depends on the
        # timing); nothing else may have gone wrong
        refused = f"{live_hub.url}/api/v1/stream"
        assert [
            p for p in w.problems if not (refused in p and "net::ERR_CONNECTION_REFUSED" in p)
        ] == []


def test_a_reading_changes_the_venue_card_and_page_live(
    browser: Browser, live_hub: DashboardHub, edge: MakeEdge
) -> None:
    client = edge("venue-01")
    last = live_hub.get("/api/v1/counter-readings", site="venue-01", limit=1)["data"][0]
    seq, count_in, count_out = last["seq"], last["count_in"], last["count_out"]

    def publish(more_in: int, more_out: int) -> None:
        nonlocal seq, count_in, count_out
        seq, count_in, count_out = seq + 1, count_in + more_in, count_out + more_out
        reading = gate_reading("venue-01", seq, datetime.now(UTC), count_in, count_out)
        client.publish(topics.event("venue-01", "gate-1", EventKind.COUNTER), reading.to_bytes())

    def shown(selector: str) -> str:
        return str(w.page.locator(selector).inner_text())

    with watched(browser, login=live_hub) as w:
        open_page(w, live_hub.url + "/venues")
        _mark_no_reload(w.page)
        card = "#venue-venue-01 .occupancy"
        before = shown(card)
        publish(30, 0)
        w.page.wait_for_function(
            f"() => document.querySelector('{card}').textContent !== '{before}'", timeout=LIVE_MS
        )
        live = live_hub.get("/api/v1/venues/venue-01")["live"]
        assert shown(card) == f"{live['occupancy']:,}", "the card shows the hub's occupancy"
        assert _same_page(w.page)

        open_page(w, live_hub.url + "/venue?id=venue-01")
        _mark_no_reload(w.page)
        figure = "#stat-visits .figure"
        before = shown(figure)
        publish(5, 10)
        w.page.wait_for_function(
            f"() => document.querySelector('{figure}').textContent !== '{before}'", timeout=LIVE_MS
        )
        live = live_hub.get("/api/v1/venues/venue-01")["live"]
        assert shown(figure) == f"{live['visits_today']:,}"
        assert shown("#stat-now .figure").startswith(f"{live['occupancy']:,}")
        assert _same_page(w.page)
        assert w.problems == []
