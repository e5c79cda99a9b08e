"""Settings of one edge agent: a TOML file, with ``EDGE_`` environment variables for what it omits.

Secrets (the broker password, the card key) are best given by environment
(``EDGE_MQTT__PASSWORD``, ``EDGE_CARD_KEY``) so the file can be shared.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mqtt_contract.models import DeviceId, SiteId
from mqtt_contract.session import ProtocolName


class ConfigError(Exception):
    """The configuration cannot be used; the message says why and where."""


class MqttSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = "mqtt://127.0.0.1:1883"
    username: str | None = Field(default=None, description="defaults to the site id")
    password: SecretStr | None = None
    protocol: ProtocolName = "5"
    session_expiry_s: int = Field(default=7 * 86_400, gt=0)


class CardReaderSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: DeviceId
    kind: Literal["card_reader"] = "card_reader"
    port: str = Field(description="serial port path, e.g. /dev/ttyUSB0")
    baudrate: int = 9600


class EdgeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EDGE_", env_nested_delimiter="__", extra="forbid")

    site: SiteId
    mode: Literal["demo", "production"] = "production"
    outbox_path: Path = Path("outbox.db")
    card_key: SecretStr = Field(description="shared with the hub; at least 16 bytes")
    heartbeat_interval_s: float = Field(default=10.0, gt=0)
    resend_after_s: float = Field(default=30.0, gt=0, description="resend what has no receipt")
    inflight_window: int = Field(default=200, gt=0, le=10_000)
    retention_s: float = Field(
        default=86_400.0, ge=0, description="keep receipted events this long"
    )
    mqtt: MqttSettings = MqttSettings()
    devices: list[CardReaderSettings] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> EdgeSettings:
        if len(self.card_key.get_secret_value().encode()) < 16:
            raise ValueError("card_key must be at least 16 bytes")
        if self.mode == "production" and self.mqtt.password is None:
            raise ValueError("production mode needs mqtt.password (or EDGE_MQTT__PASSWORD)")
        ids = [d.id for d in self.devices]
        if len(ids) != len(set(ids)):
            raise ValueError(f"device ids must be unique, got {ids}")
        return self

    @property
    def mqtt_username(self) -> str:
        return self.mqtt.username or self.site


def load_settings(path: Path) -> EdgeSettings:
    """Read a TOML config; values in the file win over the environment."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return EdgeSettings(**data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None
