"""Session options of each hub connection, built in one place from the settings."""

from __future__ import annotations

import secrets
from enum import StrEnum

from hub.core.settings import HubSettings
from mqtt_contract.session import SessionOptions

_ALLOWLIST_SESSION_EXPIRY_S = 60
"""The allowlist connection subscribes to nothing: its session only carries in-flight publishes."""
_ADMIN_SESSION_EXPIRY_S = 1
"""The admin's answers are of no use to a later run."""


class Role(StrEnum):
    INGEST = "ingest"
    """The shared subscriber: the settings' client id, session expiry and receive window."""
    ALLOWLISTS = "allowlist"
    """The allowlist publisher: ``{client id}-allowlist``, a short session."""
    BROKER_ADMIN = "broker-admin"
    """``community site`` driving the dynamic-security plugin: the admin account, a client id of
    its own per run (two operators at once do not take each other's session), no session kept."""
    COMMANDS = "commands"
    """The command dispatcher: ``{client id}-commands``; it subscribes to the edges' replies,
    so its session lasts as long as ingest's (replies wait for a hub that is down)."""


def session_options(settings: HubSettings, role: Role) -> SessionOptions:
    if role is Role.BROKER_ADMIN:
        admin = settings.broker_admin_password
        return SessionOptions(
            client_id=f"{settings.broker_admin_username[:48]}-{secrets.token_hex(4)}",
            protocol=settings.mqtt_protocol,
            username=settings.broker_admin_username,
            password=admin.get_secret_value() if admin else None,
            session_expiry_s=_ADMIN_SESSION_EXPIRY_S,
        )
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
