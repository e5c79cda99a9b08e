"""End to end, across real processes: a simulated people counter and bay sensor (Modbus RTU on a pty)
→ ``community edge`` → Mosquitto → ``community hub`` → ``/api/v1/counter-readings``.

The counter starts just short of 2**32 and loses power on the way, so the hub must record the
wrapped counters and the new device boot as read; a silenced device must show as degraded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from firmware_sim.bay_sensor import BaySensorSim
from firmware_sim.modbus_line import ModbusLine
from firmware_sim.people_counter import PeopleCounterSim
from firmware_sim.sim_loop import SimLoop
from tests.e2e.harness import HubProcess, Program, card_config, wait_for
from tests.services import ACCOUNTS, make_broker

SITE = "venue-01"


def edge_config(workdir: Path, broker_url: str, link: Path) -> Path:
    user, password = ACCOUNTS.edge(SITE)
    modbus = "poll_interval_s = 0.1\ntimeout_s = 0.1\nkeepalive_s = 5.0\n"
    path = workdir / "edge.toml"
    path.write_text(
        f'site = "{SITE}"\nmode = "production"\noutbox_path = "{workdir / "outbox.db"}"\n'
        + card_config(SITE)
        + "heartbeat_interval_s = 0.5\n"
        f'[mqtt]\nurl = "{broker_url}"\nusername = "{user}"\npassword = "{password}"\n'
        f'[[devices]]\nid = "gate-1"\nkind = "people_counter"\nport = "{link}"\nunit_id = 1\n'
        + modbus
        + f'[[devices]]\nid = "bays-1"\nkind = "bay_sensor"\nport = "{link}"\nunit_id = 2\n'
        f"bays = 12\n" + modbus
    )
    return path


@pytest.fixture
def venue(
    tmp_path: Path, database_url: str
) -> Iterator[tuple[HubProcess, ModbusLine, PeopleCounterSim, BaySensorSim]]:
    broker = make_broker(tmp_path / "mosquitto")
    broker.start()
    hub = HubProcess(tmp_path, database_url, broker)
    counter, bays = PeopleCounterSim.near_wrap(1, before=3, boots=1), BaySensorSim(2, bays=12)
    workdir = tmp_path / SITE
    workdir.mkdir()
    loop = SimLoop()
    line = ModbusLine(loop, workdir / "rs485", [counter, bays])
    config = edge_config(workdir, broker.url, line.link)
    edge = Program("edge venue-01", ["edge", "--config", str(config)], {}, workdir / "edge.log")
    try:
        hub.start()
        edge.start()
        yield hub, line, counter, bays
    finally:
        edge.stop()
        hub.close()
        line.close()
        loop.close()
        broker.kill()


def readings(hub: HubProcess, path: str) -> list[dict[str, Any]]:
    page = hub.get(path, site=SITE, limit=1000)
    assert isinstance(page, dict)
    return list(page["data"])  # newest first


def device(hub: HubProcess, device_id: str) -> dict[str, Any] | None:
    page = hub.get("/api/v1/devices", site=SITE)
    assert isinstance(page, dict)
    return next((d for d in page["data"] if d["id"] == device_id), None)


def test_counter_readings_reach_the_hub_across_wrap_and_power_loss(
    venue: tuple[HubProcess, ModbusLine, PeopleCounterSim, BaySensorSim],
) -> None:
    hub, line, counter, bays = venue

    def newest_counter() -> dict[str, Any] | None:
        rows = readings(hub, "/api/v1/counter-readings")
        return rows[0] if rows else None

    def counter_is(count_in: int, count_out: int, boots: int) -> bool:
        row = newest_counter()
        return row is not None and (row["count_in"], row["count_out"], row["device_boots"]) == (
            count_in,
            count_out,
            boots,
        )

    wait_for(lambda: counter_is(2**32 - 3, 2**32 - 3, 1), 30, "the first reading at the hub")
    counter.count(entered=5, left=2)  # in wraps past 2**32, out does not yet
    wait_for(lambda: counter_is(2, 2**32 - 1, 1), 10, "the wrapped reading")
    counter.power_cycle()
    counter.count(entered=1)
    wait_for(lambda: counter_is(1, 0, 2), 10, "the reading after the power loss")

    rows = readings(hub, "/api/v1/counter-readings")
    assert {(r["device_id"], r["unit_id"]) for r in rows} == {("gate-1", 1)}
    seqs = [r["seq"] for r in rows]
    assert len(seqs) == len(set(seqs)), "a reading was recorded twice"
    assert [(r["count_in"], r["device_boots"]) for r in reversed(rows)][:3] == [
        (2**32 - 3, 1),
        (2, 1),
        (1, 2),
    ]

    bays.set_bays("110000000001")
    wait_for(
        lambda: any(r["bays"] == "110000000001" for r in readings(hub, "/api/v1/bay-readings")),
        10,
        "the bay reading",
    )
    bay_row = readings(hub, "/api/v1/bay-readings")[0]
    assert (bay_row["occupied"], bay_row["total"]) == (3, 12)

    gate = device(hub, "gate-1")
    assert gate is not None
    assert gate["kind"] == "people_counter"
    line.silence(1)
    wait_for(
        lambda: (d := device(hub, "gate-1")) is not None and d["state"] == "degraded",
        15,
        "the hub to show the silent counter degraded",
    )
    silent = device(hub, "gate-1")
    assert silent is not None
    assert silent["timeouts"] >= 3
    bay_device = device(hub, "bays-1")
    assert bay_device is not None
    assert bay_device["state"] == "ok"
    assert bay_device["kind"] == "bay_sensor"
