"""The operations page at a city's scale (8 centres, 52 venues, about 170 devices) in headless
Chromium: problems first, grouped by kind and community, search and filters; and the page of one
site with its devices, heartbeat history, credentials and commands."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page
from pydantic import SecretStr

from demo.broker.mosquitto import MosquittoBroker
from demo.seed import Scale, seed_city
from hub.core.db import make_engine
from hub.core.settings import HubSettings
from tests.dashboards.support import DashboardHub, open_page, screenshot, watched
from tests.hub import site_rows
from tests.hub.support import CARD_KEY, shared_card_key_file
from tests.migrated import MigratedTemplates
from tests.services import ACCOUNTS

CITY_SCALE = Scale(
    subdistricts=3,
    communities=16,
    grids=32,
    grid_branches=8,
    party_groups=8,
    units=40,
    members=60,
    centres=8,
    venues=52,
    volunteer_teams=4,
    activities=16,
    service_requests=8,
)
OFFLINE = ("centre-05", "venue-03", "venue-17")
DEGRADED = ("centre-02", "venue-10")
OUTBOX = "venue-22"
FAILED = "venue-30"
REVOKED = "venue-40"
NEVER_SEEN = ("venue-50", "venue-51", "venue-52")
PROBLEM_SITES = {*OFFLINE, *DEGRADED, OUTBOX, FAILED}
COMPACT_PX = 3000
"""The page's height at this scale, at most: the table it replaces was about 6,600 px."""


def _sites() -> list[str]:
    return [f"centre-{n:02d}" for n in range(1, 9)] + [f"venue-{n:02d}" for n in range(1, 53)]


def _seed(database_url: str) -> int:
    """The city, every site provisioned, and its edges' state; how many devices it has."""
    engine = make_engine(database_url)
    devices = 0
    try:
        seed_city(engine, seed=5, key=CARD_KEY, scale=CITY_SCALE)
        now = datetime.now(UTC)
        with engine.begin() as conn:
            for n, site in enumerate(_sites()):
                site_rows.account(conn, site, state="revoked" if site == REVOKED else "active")
                if site in NEVER_SEEN:
                    continue
                site_rows.heard(
                    conn,
                    site,
                    ago_s=7200 if site in OFFLINE or site == REVOKED else 5,
                    outbox_depth=2000 if site == OUTBOX else 0,
                    oldest_pending_s=900.0 if site == OUTBOX else None,
                )
                centre = site.startswith("centre")
                kind = "reader" if centre else "gate"
                for d in range(1, 3 + n % 2 + int(centre)):
                    bad = site in DEGRADED and d == 2
                    site_rows.device(conn, site, f"{kind}-{d}", "degraded" if bad else "ok")
                    devices += 1
            site_rows.command(conn, FAILED, state="failed", ago_s=1800, reason="edge busy")
            site_rows.command(conn, FAILED, op="ping", state="done", ago_s=600)
            site_rows.command(
                conn,
                FAILED,
                op="config",
                state="queued",
                ago_s=30,
                args={"heartbeat_interval_s": 5},
            )
            for minutes in range(30, 0, -1):
                if minutes not in {12, 13, 14}:  # a gap: no heartbeat for three minutes
                    at = now - timedelta(minutes=minutes)
                    site_rows.beat(conn, "venue-10", at, outbox_depth=minutes % 7, devices_bad=1)
    finally:
        engine.dispose()
    return devices


@dataclass
class City:
    hub: DashboardHub
    devices: int


@pytest.fixture(scope="module")
def city(
    tmp_path_factory: pytest.TempPathFactory,
    session_broker: MosquittoBroker,
    migrated: MigratedTemplates,
) -> Iterator[City]:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('city') / 'hub.db'}"
    migrated.migrate(database_url)
    devices = _seed(database_url)
    user, password = ACCOUNTS.hub
    settings = HubSettings(
        database_url=database_url,
        mqtt_url=session_broker.url,
        mqtt_username=user,
        mqtt_password=SecretStr(password),
        mqtt_client_id=f"hub-ops-{uuid.uuid4().hex[:8]}",
        card_key=SecretStr(CARD_KEY.decode()),
        card_private_key_file=shared_card_key_file(),
        mode="production",
        heartbeat_timeout_s=3600,  # the sites heard 5 s ago stay online however slow the test
    )
    hub = DashboardHub(settings)
    yield City(hub, devices)
    hub.close()


def _rows(page: Page, selector: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = page.eval_on_selector_all(
        selector, "(rows) => rows.map((r) => ({...r.dataset}))"
    )
    return rows


def test_problems_come_first_at_a_citys_scale_and_the_page_stays_compact(
    browser: Browser, city: City
) -> None:
    assert city.devices >= 150, "a city's worth of devices"
    with watched(browser, login=city.hub) as w:
        open_page(w, city.hub.url + "/operations")
        problems = _rows(w.page, "#problems-table tbody tr")
        assert {r["site"] for r in problems} == PROBLEM_SITES
        worst = [r["problems"].split(" ")[0] for r in problems]
        assert worst == sorted(
            worst, key=["offline", "commands_failed", "outbox", "degraded"].index
        )
        assert {r["site"] for r in problems[:3]} == set(OFFLINE), "offline first"
        every = _rows(w.page, ".sites-table tbody tr")
        assert len(every) == 60, "every site, in its group"
        centres = w.page.locator('.kind-group[data-kind="centre"] .sites-table tbody tr')
        assert centres.count() == 8
        groups = w.page.locator("details.group")
        assert groups.count() > 2, "by community"
        assert w.page.locator("details.group[open]").count() == 0, "closed until asked"
        assert {r["state"] for r in every if r["site"] in NEVER_SEEN} == {"never_seen"}
        assert next(r["state"] for r in every if r["site"] == REVOKED) == "revoked"
        bad = _rows(w.page, "#devices-table tbody tr")
        assert {(r["site"], r["state"]) for r in bad} == {(s, "degraded") for s in DEGRADED}
        height = w.page.evaluate("document.documentElement.scrollHeight")
        assert height < COMPACT_PX, f"{height} px"
        groups.first.locator("summary").click()
        assert w.page.locator("details.group[open] .sites-table tbody tr").count() >= 1
        screenshot(w, "operations-city-desktop-zh-CN")
        assert w.problems == []


def test_search_and_filters_narrow_the_sites_and_stay_in_the_address(
    browser: Browser, city: City
) -> None:
    with watched(browser, login=city.hub, lang="en") as w:
        open_page(w, city.hub.url + "/operations")
        page = w.page
        page.fill("#site-search", "VENUE-1")
        page.wait_for_function(
            "() => document.querySelectorAll('.sites-table tbody tr').length === 10"
        )
        shown = {r["site"] for r in _rows(page, ".sites-table tbody tr")}
        assert shown == {f"venue-{n}" for n in range(10, 20)}, "any case, id or name"
        assert {r["site"] for r in _rows(page, "#problems-table tbody tr")} == {
            "venue-10",
            "venue-17",
        }
        assert page.locator("details.group:not([open])").count() == 0, "matches are opened"
        assert "q=VENUE-1" in page.url

        page.fill("#site-search", "")
        page.select_option("#filter-state", "offline")
        page.wait_for_function(
            "() => document.querySelectorAll('.sites-table tbody tr').length === 3"
        )
        assert {r["site"] for r in _rows(page, ".sites-table tbody tr")} == set(OFFLINE)
        page.select_option("#filter-kind", "venue")
        page.wait_for_function(
            "() => document.querySelectorAll('.sites-table tbody tr').length === 2"
        )
        assert "state=offline" in page.url
        assert "kind=venue" in page.url

        open_page(w, city.hub.url + "/operations?problem=degraded")
        assert page.locator("#filter-problem").input_value() == "degraded"
        assert {r["site"] for r in _rows(page, ".sites-table tbody tr")} == set(DEGRADED)

        community = page.locator("#filter-community option").nth(1).get_attribute("value")
        assert community
        open_page(w, city.hub.url + f"/operations?community={community}")
        listed = city.hub.get("/api/v1/sites", community=community, limit=100)
        shown = {r["site"] for r in _rows(page, ".sites-table tbody tr")}
        assert shown == {s["id"] for s in listed["data"]}, "the page and the API agree"
        assert w.problems == []


def test_a_sites_page_shows_devices_history_credentials_and_commands(
    browser: Browser, city: City
) -> None:
    with watched(browser, login=city.hub) as w:
        open_page(w, city.hub.url + "/site?id=venue-10")
        page = w.page
        devices = _rows(page, "#devices-table tbody tr")
        assert [(d["device"], d["state"]) for d in devices][:2] == [
            ("gate-1", "ok"),
            ("gate-2", "degraded"),
        ]
        assert page.locator("#history-chart svg path").count() > 0, "the chart is drawn"
        assert page.locator("#stat-state .badge").inner_text() == "在线"
        assert page.locator("#credentials-table").inner_text().count("有效") == 1
        assert page.locator("#commands-table tbody tr.empty").count() == 1
        screenshot(w, "site-desktop-zh-CN")

        open_page(w, city.hub.url + "/site?id=venue-30")
        commands = _rows(page, "#commands-table tbody tr")
        assert [(c["op"], c["state"]) for c in commands] == [
            ("config", "queued"),
            ("ping", "done"),
            ("ping", "failed"),
        ], "newest first"
        assert "edge busy" in page.locator("#commands-table").inner_text()
        assert "heartbeat_interval_s" in page.locator("#commands-table").inner_text()

        open_page(w, city.hub.url + f"/site?id={REVOKED}")
        assert page.locator("#stat-state .badge").inner_text() == "已吊销"
        assert "已吊销" in page.locator("#credentials-table").inner_text()
        assert w.problems == []


COMMANDS_ROUTE = "/api/v1/commands"


def test_the_buttons_send_ping_and_config_as_the_commands_api_takes_them(
    browser: Browser, city: City
) -> None:
    """What the page sends (``POST /api/v1/commands {site, op, args, deadline_s}``), that the hub
    takes it, and that the page says so."""
    with watched(browser, login=city.hub) as w:
        open_page(w, city.hub.url + "/site?id=venue-04")
        page = w.page
        with page.expect_response(lambda r: r.url.endswith(COMMANDS_ROUTE)) as answer:
            page.click("#send-ping")
        request = answer.value.request
        assert request.method == "POST"
        assert json.loads(request.post_data or "") == {
            "site": "venue-04",
            "op": "ping",
            "args": {},
            "deadline_s": 600,
        }
        assert answer.value.status == 201
        page.wait_for_selector('#command-result[data-outcome="site.command.sent"]')

        page.fill("#config-json", "[1, 2]")
        page.click("#send-config")
        page.wait_for_selector('#command-result[data-outcome="site.config.bad"]')

        page.fill("#heartbeat-interval", "5")
        page.fill("#config-json", '{"resend_after_s": 20}')
        with page.expect_response(lambda r: r.url.endswith(COMMANDS_ROUTE)) as answer:
            page.click("#send-config")
        sent = json.loads(answer.value.request.post_data or "")
        assert sent["op"] == "config"
        assert sent["args"] == {"resend_after_s": 20, "heartbeat_interval_s": 5}
        assert answer.value.status == 201
        assert w.problems == []
