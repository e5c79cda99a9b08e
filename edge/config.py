"""Settings of one edge agent: a TOML file, with ``EDGE_`` environment variables for what it omits.

Secrets (the broker password, the site's card key) are best given by environment
(``EDGE_MQTT__PASSWORD``, ``EDGE_SITE_CARD_KEY``) so the file can be shared. No edge holds the
city-wide card key: ``site_card_key`` is this site's own (``community cards site-key SITE`` at the
hub), and ``hub_card_public_key`` seals each card to the hub (``mqtt_contract.card_seal``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from edge.broker_tls import tls_context
from mqtt_contract.card_seal import public_key_from_text
from mqtt_contract.models import DeviceId, SiteId
from mqtt_contract.session import BrokerEndpoint, ProtocolName


class ConfigError(Exception):
    """The configuration cannot be used; the message says why and where."""


class MqttSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = "mqtt://127.0.0.1:1883"
    username: str | None = Field(default=None, description="defaults to the site id")
    password: SecretStr | None = None
    protocol: ProtocolName = "5"
    session_expiry_s: int = Field(default=7 * 86_400, gt=0)
    ca_file: Path | None = Field(
        default=None,
        description="with an mqtts:// url: the CA certificate the broker's must chain to "
        "(without it, the system's trust store); a relative path is taken from the config "
        "file's folder",
    )

    @model_validator(mode="after")
    def _check_broker(self) -> MqttSettings:
        endpoint = BrokerEndpoint.parse(self.url, ca_file=self.ca_file)
        if endpoint.tls:
            tls_context(self.ca_file)  # a missing or broken CA file is named now
        return self

    @property
    def endpoint(self) -> BrokerEndpoint:
        return BrokerEndpoint.parse(self.url, ca_file=self.ca_file)


class CardReaderSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: DeviceId
    kind: Literal["card_reader"] = "card_reader"
    port: str = Field(description="serial port path, e.g. /dev/ttyUSB0")
    baudrate: int = 9600
    release_s: float = Field(
        default=0.3,
        gt=0,
        le=60,
        description="how long a card must be off the reader before it counts as a new tap",
    )


class _ModbusDeviceSettings(BaseModel):
    """A Modbus RTU device; devices that share a ``port`` share one RS-485 line."""

    model_config = ConfigDict(extra="forbid")

    id: DeviceId
    port: str = Field(description="serial port path of the RS-485 line, e.g. /dev/ttyUSB0")
    unit_id: int = Field(ge=1, le=247, description="Modbus device address")
    baudrate: int = 9600
    poll_interval_s: float = Field(default=1.0, gt=0)
    timeout_s: float = Field(default=0.3, gt=0, le=10, description="wait for an answer")
    retries: int = Field(default=1, ge=0, le=5)
    degraded_after: int = Field(default=3, ge=1, description="failed requests in a row")


class _SensorSettings(_ModbusDeviceSettings):
    keepalive_s: float = Field(default=60.0, gt=0, description="publish unchanged readings")


class PeopleCounterSettings(_SensorSettings):
    kind: Literal["people_counter"]


class BaySensorSettings(_SensorSettings):
    kind: Literal["bay_sensor"]
    bays: int = Field(ge=1, le=2000, description="bays on this sensor bus, one input each")


class SignSettings(_ModbusDeviceSettings):
    """The venue's sign (alert lamp and figures); capacity alerts from the hub are shown on it."""

    kind: Literal["sign"]
    poll_interval_s: float = Field(
        default=5.0, gt=0, description="read the sign back (and write it if it differs)"
    )


def _device_kind(value: Any) -> str:
    """A device without ``kind`` is a card reader, as before there were other kinds."""
    if isinstance(value, dict):
        return str(value.get("kind", "card_reader"))
    return str(getattr(value, "kind", "card_reader"))


DeviceSettings = Annotated[
    Annotated[CardReaderSettings, Tag("card_reader")]
    | Annotated[PeopleCounterSettings, Tag("people_counter")]
    | Annotated[BaySensorSettings, Tag("bay_sensor")]
    | Annotated[SignSettings, Tag("sign")],
    Discriminator(_device_kind),
]
ModbusDeviceSettings = PeopleCounterSettings | BaySensorSettings | SignSettings


class EdgeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EDGE_", env_nested_delimiter="__", extra="forbid")

    site: SiteId
    mode: Literal["demo", "production"] = "production"
    outbox_path: Path = Path("outbox.db")
    site_card_key: SecretStr = Field(
        description="this site's card key, from `community cards site-key SITE` at the hub; "
        "the offline allowlist is hashed with it; at least 16 bytes"
    )
    hub_card_public_key: str = Field(
        description="the hub's card public key (base64): each tap's card is sealed to it"
    )
    heartbeat_interval_s: float = Field(default=10.0, gt=0)
    resend_after_s: float = Field(default=30.0, gt=0, description="resend what has no receipt")
    inflight_window: int = Field(default=200, gt=0, le=10_000)
    retention_s: float = Field(
        default=86_400.0, ge=0, description="keep receipted events this long"
    )
    mqtt: MqttSettings = MqttSettings()
    devices: list[DeviceSettings] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _no_city_key(cls, data: Any) -> Any:
        if isinstance(data, dict) and "card_key" in data:
            raise ValueError(
                "card_key (the city-wide key) no longer belongs on an edge: remove it and set "
                "site_card_key and hub_card_public_key (`community cards site-key SITE` at the "
                "hub prints both; see docs/edge.md)"
            )
        return data

    @model_validator(mode="after")
    def _check(self) -> EdgeSettings:
        if len(self.site_card_key.get_secret_value().encode()) < 16:
            raise ValueError("site_card_key must be at least 16 bytes")
        public_key_from_text(self.hub_card_public_key)
        if self.mode == "production" and self.mqtt.password is None:
            raise ValueError("production mode needs mqtt.password (or EDGE_MQTT__PASSWORD)")
        ids = [d.id for d in self.devices]
        if len(ids) != len(set(ids)):
            raise ValueError(f"device ids must be unique, got {ids}")
        _check_shared_ports(self.devices)
        return self

    @property
    def mqtt_username(self) -> str:
        return self.mqtt.username or self.site


def _check_shared_ports(devices: list[DeviceSettings]) -> None:
    """Only Modbus devices share a port (an RS-485 line): same baud rate, distinct unit ids."""
    by_port: dict[str, list[DeviceSettings]] = {}
    for device in devices:
        by_port.setdefault(device.port, []).append(device)
    for port, group in by_port.items():
        if len(group) < 2:
            continue
        if any(isinstance(d, CardReaderSettings) for d in group):
            raise ValueError(f"port {port}: a card reader cannot share its port")
        if len({d.baudrate for d in group}) > 1:
            raise ValueError(f"port {port}: devices on one line need the same baudrate")
        units = [d.unit_id for d in group if not isinstance(d, CardReaderSettings)]
        if len(units) != len(set(units)):
            raise ValueError(f"port {port}: unit ids on one line must differ, got {units}")


def load_settings(path: Path) -> EdgeSettings:
    """Read a TOML config; values in the file win over the environment."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    _relative_to(path.parent, data)
    try:
        return EdgeSettings(**data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_errors(exc)}") from None


def describe_errors(exc: ValidationError) -> str:
    """Each problem as ``where: what``, joined by ``; ``."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
    )


def _relative_to(folder: Path, data: dict[str, Any]) -> None:
    """A relative ``mqtt.ca_file`` is beside the config (a site's bundle keeps them together)."""
    mqtt = data.get("mqtt")
    if isinstance(mqtt, dict) and isinstance(mqtt.get("ca_file"), str):
        ca_file = Path(mqtt["ca_file"])
        if not ca_file.is_absolute():
            mqtt["ca_file"] = str(folder / ca_file)
