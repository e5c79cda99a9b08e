"""The edge's TLS context for the broker, from ``mqtt.ca_file`` (``mqtt_contract.tls`` says what
is verified). The config check and the connection both build it here, so a missing or broken CA
file is named when the config is loaded, not on the first connect.

The reading itself is the contract's (``mqtt_contract.tls.context_from_file``), shared with
the hub.
"""

from __future__ import annotations

from mqtt_contract.tls import context_from_file as tls_context

__all__ = ["tls_context"]
