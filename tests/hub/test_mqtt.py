"""The hub's MQTT module: the paho release its private uses were written for, and the session
options of each connection, built from the settings in one place."""

from __future__ import annotations

import subprocess
import sys

from pydantic import SecretStr

from hub.core.settings import HubSettings
from hub.mqtt import Role, session_options
from hub.mqtt.paho_adapter import PAHO_WRITTEN_FOR, paho_version


def test_paho_is_the_release_the_adapter_was_written_for() -> None:
    """hub/mqtt/paho_adapter.py uses ``Client._packet_queue`` and ``MQTTMessage._topic``. On
    another paho release re-read paho's client.py for both, then move ``PAHO_WRITTEN_FOR``."""
    assert paho_version() == PAHO_WRITTEN_FOR, (
        f"paho {paho_version()} is installed; hub/mqtt/paho_adapter.py was written for "
        f"{PAHO_WRITTEN_FOR}: check its private attributes before moving the pin"
    )


def test_each_connection_has_its_session_from_the_settings() -> None:
    settings = HubSettings(
        database_url="sqlite://",
        mode="demo",
        mqtt_client_id="hub-a",
        mqtt_username="hub",
        mqtt_password=SecretStr("secret"),
        session_expiry_s=7200,
        receive_maximum=500,
    )
    ingest = session_options(settings, Role.INGEST)
    assert (ingest.client_id, ingest.username, ingest.password) == ("hub-a", "hub", "secret")
    assert (ingest.session_expiry_s, ingest.receive_maximum) == (7200, 500)
    allowlists = session_options(settings, Role.ALLOWLISTS)
    assert allowlists.client_id == "hub-a-allowlist"
    assert (allowlists.username, allowlists.password) == ("hub", "secret")
    assert (allowlists.session_expiry_s, allowlists.receive_maximum) == (60, None)
    long_id = settings.model_copy(update={"mqtt_client_id": "h" * 64})
    assert len(session_options(long_id, Role.ALLOWLISTS).client_id) == 64


def test_the_contract_imports_no_mqtt_client() -> None:
    code = (
        "import sys, mqtt_contract, mqtt_contract.models, mqtt_contract.session, "
        "mqtt_contract.topics\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('paho', 'hub', 'edge')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
