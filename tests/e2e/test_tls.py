"""End to end over TLS, with the programs as a city runs them: `community broker-certs` makes the
certificates, Mosquitto serves them on its TLS listener, `community hub` (HUB_MQTT_CA_FILE) and
`community edge` (mqtt.ca_file beside its config) verify the broker, and a tap on a simulated
reader is recorded once and receipted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hub.broker.tls import certificate_paths
from tests.e2e.harness import EdgeSite, HubProcess, wait_for
from tests.services import make_broker


def test_a_tap_is_recorded_over_tls_between_the_programs(tmp_path: Path, database_url: str) -> None:
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "community",
            "broker-certs",
            "--out",
            str(tmp_path / "certs"),
            "--host",
            "localhost",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    certs = certificate_paths(tmp_path / "certs")
    broker = make_broker(tmp_path / "mosquitto", tls=certs)
    broker.start()
    hub = HubProcess(tmp_path, database_url, broker, ca_file=certs.ca_cert)
    site = EdgeSite("centre-01", tmp_path / "centre-01", broker.tls_url, ca_file=certs.ca_cert)
    try:
        hub.start()  # ready: its /healthz says the broker is connected, over TLS
        site.start()

        def reader_ok() -> bool:
            page = hub.get("/api/v1/devices", site="centre-01")
            assert isinstance(page, dict)
            return any(d["id"] == "reader-1" and d["state"] == "ok" for d in page["data"])

        wait_for(reader_ok, 30, "the edge's heartbeat over TLS")
        site.sims["reader-1"].tap("0A1B2C3D4E", hold_s=0.3)

        def recorded() -> set[str]:
            page = hub.get("/api/v1/checkins", site="centre-01")
            assert isinstance(page, dict)
            return {str(row["event_id"]) for row in page["data"]}

        wait_for(lambda: bool(recorded()), 20, "the tap at the hub")
        wait_for(lambda: site.pending() == 0, 20, "the hub's receipt at the edge")
        assert recorded() == site.committed_event_ids()
        assert "without TLS" not in hub.program.log_tail(100_000)
        assert site.program is not None
        assert "certificate was refused" not in site.program.log_tail(100_000)
    finally:
        site.close()
        hub.close()
        broker.kill()
