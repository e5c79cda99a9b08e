"""Provisioning sites from the dashboard: add one with its devices (the answer carries its
bundle, once), change its devices, issue a new bundle, revoke it (docs/sites.md). The same
service as ``community site``; operators only (``sites.write``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, status

from hub.api.auth import require
from hub.api.deps import SessionDep, SettingsDep
from hub.api.errors import AUTHENTICATED, refusals
from hub.api.schemas.site_admin import (
    BundleOut,
    DeviceIn,
    DevicesIn,
    ProvisionedOut,
    SiteAccountOut,
    SiteIn,
)
from hub.api.schemas.sites import CredentialsOut
from hub.api.writing import field_error
from hub.auth import Permission
from hub.sites.admin import bundle_for, check_bundle_possible, running_broker
from hub.sites.broker_control import BrokerControlError
from hub.sites.devices import DeviceSpecError, port_warnings
from hub.sites.models import SiteAccount
from hub.sites.service import (
    BrokerAccounts,
    Credentials,
    SiteError,
    active_site,
    add_site,
    revoke_site,
    rotate_site,
    set_devices,
)
from mqtt_contract.topics import ID_PATTERN

router = APIRouter(
    tags=["sites"],
    dependencies=[Depends(require(Permission.SITES_WRITE))],
    responses={
        **AUTHENTICATED,
        **refusals(400, 404, 409),
        502: {"description": "the broker refused"},
    },
)

SitePath = Annotated[str, Path(pattern=ID_PATTERN, examples=["venue-01"])]
DevicePath = Annotated[str, Path(pattern=ID_PATTERN, examples=["gate-1"])]


def _entry(device: DeviceIn) -> dict[str, Any]:
    return {"id": device.id, "kind": device.kind, "port": device.port, **device.options}


def _on_broker(settings: SettingsDep, change: Callable[[BrokerAccounts | None], Any]) -> bool:
    """Run ``change`` against the running broker (when the hub holds its admin account);
    whether the broker was changed."""
    try:
        with running_broker(settings) as broker:
            change(broker)
            return broker is not None
    except SiteError as exc:
        raise field_error("site_id", str(exc), "rule") from None
    except DeviceSpecError as exc:
        raise field_error("devices", str(exc), "device") from None
    except BrokerControlError as exc:
        raise field_error("site_id", f"the broker: {exc}", "broker", 502) from None


def _out(row: SiteAccount, broker_changed: bool) -> dict[str, Any]:
    return {
        "site_id": row.site_id,
        "kind": row.kind,
        "account": CredentialsOut.model_validate(row),
        "devices": row.devices,
        "broker_changed": broker_changed,
        "warnings": port_warnings(row.devices),
    }


def _site(session: SessionDep, site_id: str) -> SiteAccount:
    """The site, active: 404 when there is none, 409 when it is revoked."""
    row = session.get(SiteAccount, site_id)
    if row is None:
        raise field_error(
            "site_id",
            f"no site {site_id!r} in the registry",
            "reference",
            status.HTTP_404_NOT_FOUND,
        )
    try:
        return active_site(session, site_id, "change")
    except SiteError as exc:
        raise field_error("site_id", str(exc), "state", status.HTTP_409_CONFLICT) from None


@router.post(
    "/sites",
    response_model=ProvisionedOut,
    status_code=status.HTTP_201_CREATED,
    responses=refusals(422),
)
def provision_site(session: SessionDep, settings: SettingsDep, body: SiteIn) -> ProvisionedOut:
    """Register the site of a service centre or venue with its devices and make its broker
    account; the answer carries its bundle (edge.toml with the password), which the hub does
    not keep: download it now."""
    try:
        check_bundle_possible(settings)
    except SiteError as exc:
        raise field_error("site_id", str(exc), "setup") from None
    existing = session.get(SiteAccount, body.site_id)
    if existing is not None and (existing.state == "active" or not body.reinstate):
        raise field_error(
            "site_id",
            f"site {body.site_id!r} is provisioned already ({existing.state}); a new bundle: "
            f"POST /api/v1/sites/{body.site_id}/bundle; a revoked site: reinstate=true",
            "duplicate",
            status.HTTP_409_CONFLICT,
        )
    issued: list[Credentials] = []
    reserved = (settings.mqtt_username, settings.broker_admin_username)

    def change(broker: BrokerAccounts | None) -> None:
        issued.append(
            add_site(
                session,
                body.site_id,
                body.kind,
                devices=[_entry(d) for d in body.devices],
                reserved=reserved,
                reinstate=body.reinstate,
                broker=broker,
            )
        )

    changed = _on_broker(settings, change)
    row = _site(session, body.site_id)
    bundle = bundle_for(row, issued[0], settings)
    return ProvisionedOut.model_validate(
        {**_out(row, changed), "bundle": BundleOut.model_validate(bundle, from_attributes=True)}
    )


@router.post("/sites/{site_id}/bundle", response_model=ProvisionedOut)
def issue_bundle(session: SessionDep, settings: SettingsDep, site_id: SitePath) -> ProvisionedOut:
    """New credentials and the bundle that carries them; the old password stops working (its
    box is disconnected until it gets the new bundle)."""
    row = _site(session, site_id)
    try:
        check_bundle_possible(settings)
    except SiteError as exc:
        raise field_error("site_id", str(exc), "setup") from None
    if not row.devices:
        raise field_error("devices", f"site {site_id!r} has no devices", "device")
    issued: list[Credentials] = []
    changed = _on_broker(
        settings, lambda broker: issued.append(rotate_site(session, site_id, broker=broker))
    )
    bundle = bundle_for(row, issued[0], settings)
    return ProvisionedOut.model_validate(
        {**_out(row, changed), "bundle": BundleOut.model_validate(bundle, from_attributes=True)}
    )


@router.put("/sites/{site_id}/devices", response_model=SiteAccountOut, responses=refusals(422))
def replace_devices(session: SessionDep, site_id: SitePath, body: DevicesIn) -> SiteAccountOut:
    """The site's devices, all of them; they reach the box with its next bundle."""
    _site(session, site_id)
    try:
        row = set_devices(session, site_id, [_entry(d) for d in body.devices])
    except DeviceSpecError as exc:
        session.rollback()
        raise field_error("devices", str(exc), "device") from None
    return SiteAccountOut.model_validate(_out(row, broker_changed=False))


@router.post("/sites/{site_id}/devices", response_model=SiteAccountOut, responses=refusals(422))
def add_device(session: SessionDep, site_id: SitePath, body: DeviceIn) -> SiteAccountOut:
    """One more device on the site (its id must be new there)."""
    row = _site(session, site_id)
    if any(d["id"] == body.id for d in row.devices):
        raise field_error(
            "id",
            f"id: site {site_id} has a device {body.id} already",
            "duplicate",
            status.HTTP_409_CONFLICT,
        )
    devices = [*row.devices, _entry(body)]
    try:
        row = set_devices(session, site_id, devices)
    except DeviceSpecError as exc:
        session.rollback()
        raise field_error("port", str(exc), "device") from None
    return SiteAccountOut.model_validate(_out(row, broker_changed=False))


@router.delete("/sites/{site_id}/devices/{device_id}", response_model=SiteAccountOut)
def remove_device(session: SessionDep, site_id: SitePath, device_id: DevicePath) -> SiteAccountOut:
    """Take the device off the site; asked again, it is gone already (idempotent). A site keeps
    at least one device: its box needs one."""
    row = _site(session, site_id)
    devices = [d for d in row.devices if d["id"] != device_id]
    if not devices:  # a conflict with the site's state, as with a revoked site
        raise field_error(
            "device_id",
            f"{device_id} is the last device of site {site_id}: its box needs one",
            "state",
            status.HTTP_409_CONFLICT,
        )
    if len(devices) < len(row.devices):
        row = set_devices(session, site_id, devices)
    return SiteAccountOut.model_validate(_out(row, broker_changed=False))


@router.post("/sites/{site_id}/revoke", response_model=SiteAccountOut)
def revoke(session: SessionDep, settings: SettingsDep, site_id: SitePath) -> SiteAccountOut:
    """Delete the site's broker account (its box is disconnected at once); the row stays,
    revoked, with its history."""
    row = _site(session, site_id)
    changed = _on_broker(settings, lambda broker: revoke_site(session, site_id, broker=broker))
    return SiteAccountOut.model_validate(_out(row, changed))
