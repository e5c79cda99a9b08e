"""Session options of each hub connection, built in one place from the settings."""

from __future__ import annotations

from enum import StrEnum

from hub.core.settings import HubSettings
from mqtt_contract.session import SessionOptions

_ALLOWLIST_SESSION_EXPIRY_S = 60
"""The allowlist connection subscribes to nothing: its session only carries in-flight publishes."""


class Role(StrEnum):
    INGEST = "ingest"
    """The shared subscriber: the settings' client id, session expiry and receive window."""
    ALLOWLISTS = "allowlist"
    """The allowlist publisher: ``{client id}-allowlist``, a short session."""
    COMMANDS = "commands"
    """The command dispatcher: ``{client id}-commands``; it subscribes to the edges' replies,
    so its session lasts as long as ingest's (replies wait for a hub that is down)."""


def session_options(settings: HubSettings, role: Role) -> SessionOptions:
    password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
    if role is Role.INGEST:
        return SessionOptions(
            client_id=settings.mqtt_client_id,
            protocol=settings.mqtt_protocol,
            username=settings.mqtt_username,
            password=password,
            session_expiry_s=settings.session_expiry_s,
            receive_maximum=settings.receive_maximum,
        )
    return SessionOptions(
        client_id=f"{settings.mqtt_client_id}-{role.value}"[:64],
        protocol=settings.mqtt_protocol,
        username=settings.mqtt_username,
        password=password,
        session_expiry_s=(
            settings.session_expiry_s if role is Role.COMMANDS else _ALLOWLIST_SESSION_EXPIRY_S
        ),
    )
