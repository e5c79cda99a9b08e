"""Provisioning sites over the API: the request (a site and its devices) and the answer (its
account, its devices and, once, its bundle)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.api.schemas.sites import CredentialsOut
from mqtt_contract.topics import ID_PATTERN

MAX_DEVICES = 32
MAX_OPTIONS = 12
_PORT = "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0"


class DeviceIn(BaseModel):
    """One device as the edge config's ``[[devices]]`` entry (docs/edge.md)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ID_PATTERN, examples=["gate-1"])
    kind: Literal["card_reader", "people_counter", "bay_sensor", "sign"] = Field(
        examples=["people_counter"]
    )
    port: str = Field(min_length=2, max_length=255, pattern=r"^/\S+$", examples=[_PORT])
    options: dict[str, int | float] = Field(
        default_factory=dict,
        max_length=MAX_OPTIONS,
        examples=[{"unit_id": 1}],
        description="unit_id, bays, baudrate, poll_interval_s... (hub/sites/devices.py)",
    )


class SiteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site_id: str = Field(
        pattern=ID_PATTERN,
        examples=["venue-01"],
        description="the id of its service centre or venue, which must exist",
    )
    kind: Literal["centre", "venue"] = Field(examples=["venue"])
    devices: list[DeviceIn] = Field(min_length=1, max_length=MAX_DEVICES)
    reinstate: bool = Field(default=False, description="provision a revoked site again")


class DevicesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    devices: list[DeviceIn] = Field(min_length=1, max_length=MAX_DEVICES)


class BundleOut(BaseModel):
    filename: str = Field(examples=["edge.toml"])
    content: str = Field(description="edge.toml: holds the site's password; shown this once")
    ca_certificate: str | None = Field(
        description="the broker's CA (ca.crt, next to edge.toml), when the hub has one"
    )


class SiteAccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    site_id: str = Field(examples=["venue-01"])
    kind: str = Field(examples=["venue"])
    account: CredentialsOut
    devices: list[dict[str, str | float]] = Field(
        examples=[[{"id": "gate-1", "kind": "people_counter", "port": _PORT, "unit_id": 1}]]
    )
    broker_changed: bool = Field(
        description="false: the hub holds no broker admin account; the broker takes the change "
        "when rebuilt from the registry (`community broker-config`)"
    )
    warnings: list[str] = Field(description="ports that may name another adapter after a reboot")


class ProvisionedOut(SiteAccountOut):
    bundle: BundleOut = Field(description="what the box needs: download it now, it is not kept")
