"""A hub for the dashboard tests (ingest worker + API + dashboard on a real Mosquitto), records
seeded through the real store, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Frame,
    Page,
    Playwright,
    Request,
    Response,
)

from demo.seed import Scale, member_card, seed_city
from hub.api.app import close_live_streams
from hub.composition import HubIngest, build_app, build_ingest, build_store
from hub.core.db import make_engine
from hub.core.settings import HubSettings
from hub.ingest.decode import decode
from hub.ingest.events import InboundMessage
from mqtt_contract import topics
from mqtt_contract.card_seal import seal_card
from mqtt_contract.models import (
    CheckinData,
    CheckinEvent,
    CounterData,
    CounterEvent,
    DeviceHealth,
    Health,
    Status,
)
from mqtt_contract.topics import EventKind
from tests.hub.support import CARD_KEY, CARD_KEYS, CARDS, wait_until
from tests.users import bearer, user_token

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
CITY = ZoneInfo("Asia/Shanghai")
VIEWPORTS = {
    "desktop": {"width": 1440, "height": 900},
    "tablet": {"width": 768, "height": 1024},
    "phone": {"width": 390, "height": 844},  # the public page's; staff pages: desk and tablet
}

CENTRES = ("centre-01", "centre-02", "centre-03")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def launch(playwright: Playwright) -> Browser:
    """Debian's chromium, never a downloaded browser: missing is a failure, not a skip."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `bash .ci/services chromium`"
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
    )


class ApiThread:
    """The app under a real uvicorn on ``port`` (0: any free one), in a thread."""

    def __init__(self, app: FastAPI, port: int = 0) -> None:
        self.app = app
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_until(lambda: self.server.started or not self.thread.is_alive(), 10, "uvicorn")
        assert self.server.started, "uvicorn did not start"
        self.port: int = self.server.servers[0].sockets[0].getsockname()[1]

    def stop(self) -> None:
        close_live_streams(self.app)  # uvicorn waits for open responses, and streams never end
        self.server.should_exit = True
        self.thread.join(10)
        assert not self.thread.is_alive(), "uvicorn did not stop"


@dataclass
class DashboardHub:
    """Ingest worker, API and dashboard of one hub, as ``community hub`` runs them."""

    settings: HubSettings
    worker: HubIngest = field(init=False)
    api: ApiThread = field(init=False)

    token: str = field(init=False)
    """An operator's, made before the hub starts."""

    def __post_init__(self) -> None:
        self.token = user_token(self.settings.database_url)
        self.worker = build_ingest(self.settings)
        self.worker.start()
        assert self.worker.wait_ready(10), "ingest worker did not connect"
        self.api = ApiThread(build_app(self.settings, ingest=self.worker))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api.port}"

    def get(self, path: str, **params: Any) -> Any:
        response = httpx.get(self.url + path, params=params, timeout=10, headers=bearer(self.token))
        response.raise_for_status()
        return response.json()

    def count(self, table: str, site: str) -> int:
        engine = make_engine(self.settings.database_url)
        try:
            with engine.connect() as conn:
                query = sa.text(f"SELECT count(*) FROM {table} WHERE site_id = :site")
                return int(conn.execute(query, {"site": site}).scalar_one())
        finally:
            engine.dispose()

    def stop_api(self) -> None:
        self.api.stop()

    def start_api(self) -> None:
        """Again, on the same port, as a restarted hub would be."""
        self.api = ApiThread(build_app(self.settings, ingest=self.worker), self.api.port)

    def close(self) -> None:
        if self.api.thread.is_alive():
            self.api.stop()
        self.worker.stop(timeout=2)


# --- records seeded through the real store ----------------------------------------------------


def today_at(hour: int, minute: int = 0) -> datetime:
    """A time today in the city (as the centre staff's "today"), in UTC."""
    local = datetime.now(CITY).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return local.astimezone(UTC)


def tap(
    site: str,
    seq: int,
    ts: datetime,
    *,
    device: str = "reader-1",
    card: str = "0A1B2C3D4E",
    decision: str = "allowed",
    boot: uuid.UUID | None = None,
) -> CheckinEvent:
    return CheckinEvent(
        id=uuid.uuid4(),
        site=site,
        device=device,
        boot=boot or uuid.UUID(int=CENTRES.index(site) + 1 if site in CENTRES else 99),
        seq=seq,
        ts=ts,
        data=CheckinData(
            card_sealed=seal_card(CARD_KEYS.private_key.public_key, card), decision=decision
        ),  # type: ignore[arg-type]
    )


def heartbeat(
    site: str, devices: dict[str, tuple[str, str]], *, boot: uuid.UUID | None = None
) -> Health:
    """``devices``: id → (kind, state)."""
    return Health(
        site=site,
        boot=boot or uuid.UUID(int=CENTRES.index(site) + 1 if site in CENTRES else 99),
        ts=datetime.now(UTC),
        uptime_s=3600.0,
        outbox_depth=0,
        oldest_pending_s=None,
        agent_version="0.1.0",
        devices=[
            DeviceHealth(
                id=device,
                kind=kind,  # type: ignore[arg-type]
                state=state,  # type: ignore[arg-type]
                frames_ok=1200,
                frame_errors=3,
                port_errors=0,
            )
            for device, (kind, state) in devices.items()
        ],
    )


def online(site: str) -> Status:
    return Status(
        site=site,
        state="online",
        boot=uuid.UUID(int=CENTRES.index(site) + 1 if site in CENTRES else 99),
        since=datetime.now(UTC),
        agent_version="0.1.0",
    )


def inbound(topic: str, payload: bytes) -> InboundMessage:
    return InboundMessage(
        topic=topic,
        payload=payload,
        mid=1,
        qos=1,
        retained=False,
        received_at=datetime.now(UTC),
        generation=1,
    )


SMALL_CITY = Scale(
    communities=4,
    grids=20,
    grid_branches=6,
    party_groups=8,
    units=12,
    members=120,
    centres=2,
    venues=5,
    volunteer_teams=10,
    activities=96,
    service_requests=30,
)
CITY_SEED = 1


def seed_centres(database_url: str) -> None:
    """A small seeded city (``community seed``'s, 2 centres, 120 members, last year's records),
    then today: a morning of taps at three centres' readers (seeded members' cards, and some
    unknown ones), their heartbeats, two dead letters."""
    engine = make_engine(database_url)
    try:
        seed_city(engine, seed=CITY_SEED, key=CARD_KEY, scale=SMALL_CITY)
    finally:
        engine.dispose()
    messages: list[InboundMessage] = []
    seq = 0
    now = datetime.now(UTC) - timedelta(seconds=30)
    midnight = today_at(0)
    for n, site in enumerate(CENTRES):
        messages.append(inbound(topics.status(site), online(site).to_bytes()))
        messages.append(
            inbound(
                topics.health(site),
                heartbeat(site, {"reader-1": ("card_reader", "ok")}).to_bytes(),
            )
        )
        taps = 12 + 4 * n
        for i in range(taps):
            seq += 1
            ts = midnight + (now - midnight) * (0.3 + 0.7 * (i + n / 3) / (taps + 1))
            unknown = i % 5 == 4
            card = f"{n:02X}{i:08X}" if unknown else member_card(CITY_SEED, 1 + (7 * seq) % 120)
            decision = "unknown" if unknown else "allowed"
            event = tap(site, 10_000 + seq, ts, card=card, decision=decision)
            topic = topics.event(site, "reader-1", EventKind.CHECKIN)
            messages.append(inbound(topic, event.to_bytes()))
    reader = topics.event("centre-01", "reader-1", EventKind.CHECKIN)
    messages.append(inbound(reader, b"not json :("))
    messages.append(inbound(reader, b'{"v": 1, "site": "centre-01", "kind": "checkin"}'))
    write(database_url, messages)


VENUES = ("venue-01", "venue-02")


def gate_readings(site: str, start_seq: int, until: datetime | None = None) -> list[CounterEvent]:
    """A gate counter at ``site`` read every 20 minutes since midnight: people in and out."""
    until = until or datetime.now(UTC) - timedelta(seconds=20)
    at, seq, count_in, count_out = today_at(0), start_seq, 0, 0
    events = []
    while at < until:
        count_in += 12 + seq % 7
        count_out += 9 + seq % 5
        # never more than 60 inside (capacity 142): a test's +30 shows at any hour of the day
        count_out = min(max(count_out, count_in - 60), count_in)
        events.append(gate_reading(site, seq, at, count_in, count_out))
        seq += 1
        at += timedelta(minutes=20)
    return events


def gate_reading(site: str, seq: int, at: datetime, count_in: int, count_out: int) -> CounterEvent:
    return CounterEvent(
        id=uuid.uuid4(),
        site=site,
        device="gate-1",
        boot=uuid.UUID(int=1000 + VENUES.index(site)),
        seq=seq,
        ts=at,
        data=CounterData(unit_id=1, device_boots=1, count_in=count_in, count_out=count_out),
    )


def write(database_url: str, messages: Sequence[InboundMessage]) -> None:
    engine = make_engine(database_url)
    try:
        build_store(engine).write([decode(m, cards=CARDS) for m in messages])
    finally:
        engine.dispose()


# --- a page under watch -----------------------------------------------------------------------


@dataclass
class Watched:
    """A page with every console error, failed request and error response it met.

    A request the browser aborted because the page left its document (a reload, a link, a
    redirect to the login page, the test moving on) is the leaving, not a problem of the page:
    each request is tagged with the document it was made from, and an abort counts only while
    that document is still the page's. So whatever order Chromium reports the abort and the
    navigation in, ``problems`` read afterwards is right."""

    page: Page
    _found: list[str] = field(default_factory=list)
    _aborted: list[tuple[int, str]] = field(default_factory=list)
    _document: int = 0
    _made_in: dict[Request, int] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        stayed = [message for document, message in self._aborted if document == self._document]
        return self._found + stayed

    def clear(self) -> None:
        self._found.clear()
        self._aborted.clear()

    def on_navigated(self, frame: Frame) -> None:
        if frame == self.page.main_frame:
            self._document += 1

    def on_request(self, request: Request) -> None:
        self._made_in[request] = self._document

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type in {"error", "warning"}:
            self._found.append(f"console {message.type}: {message.text}")

    def on_failed(self, request: Request) -> None:
        failure = request.failure or ""
        stream = request.url.endswith("/api/v1/stream") or "/api/v1/stream?" in request.url
        if stream and ("ERR_ABORTED" in failure or "ERR_INCOMPLETE_CHUNKED_ENCODING" in failure):
            return  # a stream ended when the test closed the page or stopped the server
        message = f"request failed: {request.method} {request.url} {failure}"
        if "ERR_ABORTED" in failure:
            self._aborted.append((self._made_in.get(request, self._document), message))
        else:
            self._found.append(message)

    def on_response(self, response: Response) -> None:
        if response.status >= 400:
            self._found.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def on_page_error(self, error: Exception) -> None:
        self._found.append(f"page error: {error}")


CSP_REPORTER = """document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});"""
"""Every Content-Security-Policy violation becomes a console error, so a page under watch that
breaks its policy has a problem (Chromium's own message may be a warning, or none)."""


@contextmanager
def watched(
    browser: Browser,
    viewport: str = "desktop",
    lang: str | None = None,
    *,
    login: DashboardHub | None = None,
    token: str | None = None,
) -> Iterator[Watched]:
    """A fresh browser context; with ``login``, already logged in to that hub (as an operator,
    or with ``token``) through ``POST /api/v1/session``, so it holds the session cookie."""
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="zh-CN")  # type: ignore[arg-type]
    if login is not None:
        response = context.request.post(
            login.url + "/api/v1/session", data={"token": token or login.token}
        )
        assert response.ok, f"login: HTTP {response.status} {response.text()}"
    if lang:
        context.add_init_script(f"localStorage.setItem('yp.lang', {lang!r})")
    context.add_init_script(CSP_REPORTER)
    page = context.new_page()
    page.set_default_timeout(10_000)
    w = Watched(page)
    page.on("framenavigated", w.on_navigated)
    page.on("request", w.on_request)
    page.on("console", w.on_console)
    page.on("requestfailed", w.on_failed)
    page.on("response", w.on_response)
    page.on("pageerror", w.on_page_error)
    try:
        yield w
    finally:
        context.close()


def open_page(w: Watched, url: str) -> None:
    """Load and wait for the page's first complete render (its ``data-ready`` mark)."""
    w.page.goto(url)
    w.page.wait_for_function("() => document.documentElement.dataset.ready === 'true'")


def screenshot(w: Watched, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    w.page.screenshot(path=str(path), full_page=True)
    return path


UNTRANSLATED_JS = """() => {
  // Visible text that is neither a catalogue label, a formatted value nor data from the records.
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    if (!text) continue;
    const el = node.parentElement;
    if (!el || el.closest('[data-i18n],[data-fmt],[data-value],[data-chart],script,style')) continue;
    if (!el.getClientRects().length) continue;
    found.push(text);
  }
  return found;
}"""

LABELS_JS = """() => [...document.querySelectorAll('[data-i18n]')]
  .filter((el) => el.getClientRects().length && !el.closest('head'))
  .map((el) => ({key: el.dataset.i18n, text: el.textContent}))"""


def untranslated(page: Page) -> list[str]:
    result: list[str] = page.evaluate(UNTRANSLATED_JS)
    return result


def labels(page: Page) -> list[dict[str, str]]:
    result: list[dict[str, str]] = page.evaluate(LABELS_JS)
    return result


def within(seconds: float, condition: Callable[[], bool]) -> float:
    """How long ``condition`` took to come true; fails after ``seconds``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            raise AssertionError(f"not within {seconds} s")
        time.sleep(0.01)
    return time.monotonic() - started
