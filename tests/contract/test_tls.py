"""The TLS policy both sides share (mqtt_contract.tls) and the broker endpoint's CA file."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from mqtt_contract.session import BrokerEndpoint
from mqtt_contract.tls import MINIMUM_VERSION, client_context, handshake_failure


def test_the_broker_is_always_verified_by_name_and_chain() -> None:
    context = client_context(None)  # the system's trust store
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.minimum_version == MINIMUM_VERSION == ssl.TLSVersion.TLSv1_2


def test_a_failed_handshake_is_told_once() -> None:
    context = client_context(None)
    assert handshake_failure(context) is None
    reason = "the broker's certificate was refused: Hostname mismatch"
    context.last_failure = reason
    assert handshake_failure(context) == reason
    assert handshake_failure(context) is None, "a later success must not repeat an old reason"
    assert handshake_failure(None) is None


def test_a_ca_file_belongs_to_mqtts_only() -> None:
    endpoint = BrokerEndpoint.parse("mqtts://[::1]", ca_file=Path("/etc/yp/ca.crt"))
    assert (endpoint.url, endpoint.loopback, endpoint.ca_file) == (
        "mqtts://[::1]:8883",
        True,
        Path("/etc/yp/ca.crt"),
    )
    assert not BrokerEndpoint.parse("mqtt://mosquitto").loopback
    with pytest.raises(ValueError, match="plain mqtt://"):
        BrokerEndpoint.parse("mqtt://localhost", ca_file=Path("/etc/yp/ca.crt"))
