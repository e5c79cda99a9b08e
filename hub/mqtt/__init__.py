"""The hub's one MQTT module: every hub connection (ingest with its receipts and capacity alerts,
the allowlists, every later downlink) is a :class:`HubConnection` on options built here from the
settings. paho is imported nowhere else in the hub."""

from __future__ import annotations

from hub.mqtt.connection import HubConnection, PublishError
from hub.mqtt.message import InboundMessage
from hub.mqtt.session import Role, session_options

__all__ = ["HubConnection", "InboundMessage", "PublishError", "Role", "session_options"]
