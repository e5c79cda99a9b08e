"""The hub's TLS context for the broker, from ``HUB_MQTT_CA_FILE`` (``mqtt_contract.tls`` says what
is verified). The config check and the connection both build it here, so a missing or broken CA
file is named when the config is loaded, not on the first connect.

The edge has the same few lines (``edge/broker_tls.py``): the edge must not import the hub,
and the contract package does no I/O.
"""

from __future__ import annotations

from pathlib import Path

from mqtt_contract.tls import BrokerTLSContext, client_context

_MAX_CA_BYTES = 1024 * 1024
"""A bundle of CA certificates is a few kilobytes; anything this large is the wrong file."""


def tls_context(ca_file: Path | None) -> BrokerTLSContext:
    """Verify against ``ca_file``, or the system's trust store when it is ``None``;
    ``ValueError`` names the file when it cannot be used."""
    if ca_file is None:
        return client_context(None)
    try:
        with ca_file.open("rb") as file:
            data = file.read(_MAX_CA_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"CA file {ca_file}: cannot read it: {exc.strerror}") from None
    if len(data) > _MAX_CA_BYTES:
        raise ValueError(f"CA file {ca_file}: over {_MAX_CA_BYTES} bytes, not a CA certificate")
    return client_context(data.decode("ascii", errors="replace"), source=f"CA file {ca_file}")
