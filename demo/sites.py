"""The demo's sites, provisioned the way an operator does it with ``community site``: a registry
row per site (``hub.sites``), its bundle (``edge.toml``) written by the hub's own bundle code, and
the broker's accounts built from the registry before the broker starts.

A restart reuses a site's bundle while it still fits (its password matches the registry's hash,
and the broker URL, protocol and devices are today's); otherwise the site gets new credentials and
a new bundle, as ``community site bundle`` would give it. A site an operator revoked stays
revoked: its edge is not started.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from hub.broker.dynsec import parse_hash, verify_password
from hub.core.card_keys import card_keys
from hub.core.db import make_engine
from hub.core.settings import HubSettings
from hub.sites.broker_config import registry_broker_config
from hub.sites.bundle import CONFIG_FILE, write_bundle
from hub.sites.devices import check_devices
from hub.sites.models import SiteAccount
from hub.sites.service import Credentials, add_site, rotate_site, set_devices

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoSite:
    site: str
    kind: str  # centre | venue
    devices: list[dict[str, Any]] = field(default_factory=list)


def site_dir(data_dir: Path, site: str) -> Path:
    """Where the demo keeps a site's bundle, outbox and (for centres) reader link."""
    return data_dir / "edges" / site


def centre_site(data_dir: Path, site: str) -> DemoSite:
    reader = {"id": "reader-1", "kind": "card_reader", "port": str(reader_link(data_dir, site))}
    return DemoSite(site, "centre", [reader])


def reader_link(data_dir: Path, site: str) -> Path:
    return site_dir(data_dir, site) / "reader-1.tty"


def _fits(path: Path, row: SiteAccount, settings: HubSettings) -> bool:
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
        mqtt = config["mqtt"]
        return (
            verify_password(str(mqtt["password"]), parse_hash(row.password_hash))
            and mqtt["url"] == settings.edge_broker_url
            and mqtt["protocol"] == settings.mqtt_protocol
            and config.get("devices") == row.devices
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def provision(settings: HubSettings, sites: Sequence[DemoSite], data_dir: Path) -> dict[str, Path]:
    """Every active site's bundle (``edge.toml``), provisioning what the registry lacks."""
    keys = card_keys(settings)
    bundles: dict[str, Path] = {}
    engine = make_engine(settings.database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            for demo in sites:
                path = _provision_one(session, settings, keys, demo, data_dir)
                if path is not None:
                    bundles[demo.site] = path
    finally:
        engine.dispose()
    return bundles


def _provision_one(
    session: Session, settings: HubSettings, keys: Any, demo: DemoSite, data_dir: Path
) -> Path | None:
    out = site_dir(data_dir, demo.site)
    row = session.get(SiteAccount, demo.site)
    credentials: Credentials | None = None
    if row is None:
        credentials = add_site(session, demo.site, demo.kind, devices=demo.devices)
        row = session.get(SiteAccount, demo.site)
        assert row is not None
    elif row.state == "revoked":
        log.warning("site %s is revoked in the registry; its edge is not started", demo.site)
        return None
    elif row.devices != check_devices(demo.devices):
        row = set_devices(session, demo.site, demo.devices)
    if credentials is None and not _fits(out / CONFIG_FILE, row, settings):
        credentials = rotate_site(session, demo.site)
    if credentials is not None:
        write_bundle(out, row, credentials, settings, keys)
    return out / CONFIG_FILE


def broker_accounts(settings: HubSettings, publishers: Mapping[str, str]) -> dict[str, Any]:
    """The dynamic-security document for the demo's broker: the registry's accounts (the hub,
    the admin, every active site) and the demo's test publisher."""
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            return registry_broker_config(session, settings, extra=publishers).dynsec
    finally:
        engine.dispose()
