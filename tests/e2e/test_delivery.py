"""End to end, across real processes: simulated reader → pty → edge → Mosquitto → hub → database.

The test keeps its own record of what the edges committed (their outboxes keep receipted rows, as a
journal) and compares it with what the hub recorded, after killing a part of the chain with -9.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import EdgeSite, HubProcess, wait_for
from tests.services import make_broker


def all_checkins(hub: HubProcess) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    while True:
        page = hub.get("/api/v1/checkins", offset=len(rows), limit=1000)
        assert isinstance(page, dict)
        rows += page["data"]
        if len(rows) >= page["count"]:
            return rows


class Tapper:
    """Taps distinct cards round-robin on every reader of every site until stopped."""

    def __init__(self, sites: list[EdgeSite], hold_s: float = 0.15) -> None:
        self.sites, self.hold_s = sites, hold_s
        self.taps = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for site in self.sites:
                for sim in site.sims.values():
                    self.taps += 1
                    sim.tap(f"{self.taps:010X}", hold_s=self.hold_s)

    def __enter__(self) -> Tapper:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)


@pytest.fixture
def system(
    tmp_path: Path, database_url: str
) -> Iterator[tuple[object, HubProcess, list[EdgeSite]]]:
    # A long autosave interval: a broker killed -9 loses whatever it held in memory, the worst case.
    broker = make_broker(tmp_path / "mosquitto", autosave_interval=3600)
    broker.start()
    hub = HubProcess(tmp_path, database_url, broker)
    sites = [EdgeSite(s, tmp_path / s, broker.url) for s in ("centre-01", "centre-02")]
    try:
        hub.start()
        for site in sites:
            site.start()
        wait_readers_open(hub, sites)
        yield broker, hub, sites
    finally:
        for site in sites:
            site.close()
        hub.close()
        broker.kill()


def wait_readers_open(hub: HubProcess, sites: list[EdgeSite]) -> None:
    """Taps before an agent has opened its port would be lost on the wire, as on a real line."""
    wanted = {(site.site, device) for site in sites for device in site.devices}

    def ready() -> bool:
        page = hub.get("/api/v1/devices", limit=1000)
        assert isinstance(page, dict)
        ok = {(d["site_id"], d["id"]) for d in page["data"] if d["online"] and d["state"] == "ok"}
        return wanted <= ok

    wait_for(ready, 30, "every edge to report its readers open")


def wait_all_receipted(sites: list[EdgeSite], timeout: float = 90) -> None:
    wait_for(
        lambda: all(site.pending() == 0 for site in sites),
        timeout,
        "every committed event to be receipted by the hub",
        interval=0.5,
    )


def assert_exactly_once(hub: HubProcess, sites: list[EdgeSite]) -> set[str]:
    committed: set[str] = set().union(*(site.committed_event_ids() for site in sites))
    recorded = [str(row["event_id"]) for row in all_checkins(hub)]
    assert len(recorded) == len(set(recorded)), "an event was recorded twice"
    assert set(recorded) - committed == set(), "the hub recorded events no edge committed"
    assert committed - set(recorded) == set(), "events committed at the edge were lost"
    return committed


def test_a_tap_appears_exactly_once(system: tuple[object, HubProcess, list[EdgeSite]]) -> None:
    _, hub, sites = system
    site = sites[0]
    wait_for(lambda: site.program is not None and site.pending() == 0, 10, "edge start")
    site.sims["reader-1"].tap("0A1B2C3D4E", hold_s=0.6)  # held: about six frames, one tap

    def recorded() -> list[dict[str, object]]:
        page = hub.get("/api/v1/checkins", site="centre-01")
        assert isinstance(page, dict)
        return list(page["data"])

    wait_for(lambda: len(recorded()) > 0, 20, "the tap to reach the hub")
    time.sleep(1.0)  # anything duplicated would have arrived by now
    rows = recorded()
    assert len(rows) == 1
    assert rows[0]["device_id"] == "reader-1"
    assert rows[0]["site_id"] == "centre-01"
    assert site.committed_event_ids() == {rows[0]["event_id"]}
    wait_all_receipted([site])


@pytest.mark.slow
@pytest.mark.parametrize("victim", ["hub", "broker", "edge"])
def test_kill_minus_nine_loses_and_duplicates_nothing(
    system: tuple[object, HubProcess, list[EdgeSite]], victim: str
) -> None:
    broker, hub, sites = system
    with Tapper(sites) as tapper:
        wait_for(lambda: tapper.taps >= 10, 30, "taps to flow")
        for _ in range(2):
            if victim == "hub":
                hub.program.kill()
                time.sleep(1.5)  # taps keep coming and queue in the hub's persistent session
                hub.start()
            elif victim == "broker":
                broker.kill()  # type: ignore[attr-defined]
                time.sleep(1.5)
                broker.start()  # type: ignore[attr-defined]
            else:
                edge = sites[0].program
                assert edge is not None
                edge.kill()
                time.sleep(1.5)
                edge.start()
            before = tapper.taps
            wait_for(lambda b=before: tapper.taps >= b + 10, 30, "taps to flow again")
    if victim != "edge":
        wait_for(
            lambda: sum(len(s.committed_event_ids()) for s in sites) >= tapper.taps,
            10,
            "the last taps to be committed at the edges",
        )
    wait_all_receipted(sites)
    committed = assert_exactly_once(hub, sites)
    assert len(committed) >= 20
    if victim != "edge":
        # Nothing but an edge's own death can lose a tap on the wire.
        assert len(committed) == tapper.taps
