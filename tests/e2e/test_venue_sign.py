"""End to end, across real processes: a capacity alert raised at the hub reaches the simulated venue
sign through the edge, and clears.

The venue's gate counter and its sign share one RS-485 line (pty pairs, pymodbus's server) read by
``community edge``; the readings go through Mosquitto to ``community hub``, whose occupancy passes
the venue's threshold; the hub's own alert path publishes ``cmd/alert``, and the edge writes the
sign on the same line. Nothing in between is a stub."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from firmware_sim.modbus_line import ModbusLine
from firmware_sim.people_counter import PeopleCounterSim
from firmware_sim.sim_loop import SimLoop
from firmware_sim.venue_sign import VenueSignSim
from hub.core.db import make_engine
from tests.e2e.harness import HubProcess, Program, card_config, wait_for
from tests.hub.venues.support import closing_hours_ago, register_venue
from tests.services import ACCOUNTS, make_broker

SITE = "venue-01"
CAPACITY = 20  # threshold 90 %: raised at 18 inside, cleared below 80 % (16)


def edge_config(workdir: Path, broker_url: str, link: Path) -> Path:
    user, password = ACCOUNTS.edge(SITE)
    fast = "poll_interval_s = 0.1\ntimeout_s = 0.1\n"
    path = workdir / "edge.toml"
    path.write_text(
        f'site = "{SITE}"\nmode = "production"\noutbox_path = "{workdir / "outbox.db"}"\n'
        + card_config(SITE)
        + "heartbeat_interval_s = 0.5\n"
        f'[mqtt]\nurl = "{broker_url}"\nusername = "{user}"\npassword = "{password}"\n'
        f'[[devices]]\nid = "gate-1"\nkind = "people_counter"\nport = "{link}"\nunit_id = 1\n'
        + fast
        + "keepalive_s = 5.0\n"
        + f'[[devices]]\nid = "sign-1"\nkind = "sign"\nport = "{link}"\nunit_id = 3\n'
        + fast
    )
    return path


@pytest.fixture
def venue(
    tmp_path: Path, database_url: str
) -> Iterator[tuple[HubProcess, PeopleCounterSim, VenueSignSim, Program]]:
    broker = make_broker(tmp_path / "mosquitto")
    broker.start()
    hub = HubProcess(tmp_path, database_url, broker)  # migrates the database
    engine = make_engine(database_url)
    try:
        # the venue's occupancy day began three hours ago, at its closing time
        register_venue(
            engine,
            SITE,
            capacity=CAPACITY,
            closes_at=closing_hours_ago(datetime.now(UTC), 3),
            opens_at=closing_hours_ago(datetime.now(UTC), 2),  # open now: alerts are raised
        )
    finally:
        engine.dispose()
    counter, sign = PeopleCounterSim(1, count_in=500, count_out=500, boots=1), VenueSignSim(3)
    workdir = tmp_path / SITE
    workdir.mkdir()
    loop = SimLoop()
    line = ModbusLine(loop, workdir / "rs485", [counter, sign])
    config = edge_config(workdir, broker.url, line.link)
    edge = Program("edge venue-01", ["edge", "--config", str(config)], {}, workdir / "edge.log")
    try:
        hub.start()
        edge.start()
        yield hub, counter, sign, edge
    finally:
        edge.stop()
        hub.close()
        line.close()
        loop.close()
        broker.kill()


def venue_state(hub: HubProcess) -> tuple[int, bool] | None:
    page = hub.get("/api/v1/venues")
    assert isinstance(page, dict)
    row = next((v for v in page["data"] if v["id"] == SITE), None)
    if row is None or row["live"] is None or row["live"]["source"] != "counters":
        return None  # no reading yet: the first one is the day's baseline
    return int(row["live"]["occupancy"]), row["alert"] is not None


def sign_device(hub: HubProcess) -> dict[str, object] | None:
    page = hub.get("/api/v1/devices", site=SITE)
    assert isinstance(page, dict)
    return next((d for d in page["data"] if d["id"] == "sign-1"), None)


def test_a_capacity_alert_raised_at_the_hub_reaches_the_venue_sign_and_clears(
    venue: tuple[HubProcess, PeopleCounterSim, VenueSignSim, Program],
) -> None:
    hub, counter, sign, edge = venue

    def logs() -> str:
        return "\nhub:\n" + hub.program.log_tail() + "\nedge:\n" + edge.log_tail()

    # the gate's first reading at the hub is the day's baseline: count only after it
    wait_for(lambda: venue_state(hub) == (0, False), 30, "the baseline reading at the hub" + logs())
    assert sign.shows() == (False, 0, 0)
    counter.count(entered=19)  # 95 % of 20: over the threshold
    wait_for(lambda: venue_state(hub) == (19, True), 30, "the alert raised at the hub" + logs())
    wait_for(lambda: sign.shows() == (True, 19, 20), 30, "the sign lit with 19 of 20" + logs())

    counter.count(left=10)  # 45 %: below the threshold less the hysteresis
    wait_for(lambda: venue_state(hub) == (9, False), 30, "the alert cleared at the hub" + logs())
    wait_for(lambda: sign.shows() == (False, 9, 20), 30, "the sign out with 9 of 20" + logs())

    device = sign_device(hub)
    assert device is not None
    assert (device["kind"], device["state"]) == ("sign", "ok")
    alerts = hub.get("/api/v1/alerts", state="cleared")
    assert isinstance(alerts, dict)
    (record,) = alerts["data"]
    assert (record["peak_occupancy"], record["occupancy_at_clear"], record["published"]) == (
        19,
        9,
        True,
    )
    log = edge.log_path.read_text(errors="replace")
    assert "capacity alert raised at venue-01 (19 of 20 at 90 %): to the sign(s)" in log
    assert "sign-1 (unit 3) now shows: lamp off, 9 of 20" in log
