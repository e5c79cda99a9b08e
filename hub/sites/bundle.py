"""A site's bundle: the directory its box needs, ``edge.toml`` first (docs/sites.md).

``community edge --config DIR/edge.toml`` runs it as it is: the broker URL the edges reach
(``HUB_EDGE_MQTT_URL``), the site's account and password, its card key and the hub's public card
key (never the city key), its devices, and the broker's CA certificate when the hub has one
(``HUB_MQTT_CA_FILE``). The directory is 0700 and every file in it 0600: it holds the password.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hub.core.card_keys import HubCardKeys
from hub.core.private_files import make_private_dir, write_private
from hub.core.settings import HubSettings
from hub.sites.models import SiteAccount
from hub.sites.service import Credentials, SiteError

CONFIG_FILE = "edge.toml"
CA_FILE = "ca.crt"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))  # a JSON string is a TOML basic string


def _table(values: Mapping[str, Any]) -> list[str]:
    return [f"{key} = {_value(value)}" for key, value in values.items()]


def edge_toml(
    row: SiteAccount,
    credentials: Credentials,
    settings: HubSettings,
    keys: HubCardKeys,
    install_dir: Path,
    *,
    with_ca: bool,
) -> str:
    mqtt: dict[str, Any] = {
        "url": settings.edge_broker_url,
        "username": row.site_id,
        "password": credentials.password,
        "protocol": settings.mqtt_protocol,
    }
    if with_ca:
        mqtt["ca_file"] = str(install_dir / CA_FILE)
    lines = [
        f"# Edge config of site {row.site_id} ({row.kind}), credentials version "
        f"{credentials.version}, made {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `community site`.",
        "# It holds the site's broker password: keep it 0600. A new bundle replaces the password.",
        *_table(
            {
                "site": row.site_id,
                "mode": "production",
                "outbox_path": str(install_dir / "outbox.db"),
                "site_card_key": keys.site_key(row.site_id),
                "hub_card_public_key": keys.public_key,
            }
        ),
        "",
        "[mqtt]",
        *_table(mqtt),
    ]
    for device in row.devices:
        lines += ["", "[[devices]]", *_table(device)]
    return "\n".join(lines) + "\n"


def write_bundle(
    out: Path,
    row: SiteAccount,
    credentials: Credentials,
    settings: HubSettings,
    keys: HubCardKeys | None,
    *,
    install_dir: Path | None = None,
) -> Path:
    """Write the bundle into ``out`` (made 0700 if new) and return its ``edge.toml``.
    ``install_dir``: where the box will keep it (its outbox goes there too); default ``out``."""
    if keys is None:
        raise SiteError(
            "a bundle carries the site's card key: set HUB_CARD_KEY and "
            "HUB_CARD_PRIVATE_KEY_FILE (docs/security.md, Cards)"
        )
    if not row.devices:
        raise SiteError(
            f"site {row.site_id!r} has no devices and an edge needs at least one: give them with "
            "--device ID=KIND:PORT"
        )
    if out.exists() and not out.is_dir():
        raise SiteError(f"{out} exists and is not a directory")
    ca = settings.mqtt_ca_file
    if ca is not None and not ca.is_file():
        raise SiteError(f"HUB_MQTT_CA_FILE {ca} is not a readable file")
    make_private_dir(out)
    where = (install_dir or out).absolute()
    if ca is not None:
        write_private(out / CA_FILE, ca.read_text(encoding="ascii"))
    elif (out / CA_FILE).exists():
        (out / CA_FILE).unlink()  # a stale CA from an earlier bundle would mislead
    path = out / CONFIG_FILE
    write_private(path, edge_toml(row, credentials, settings, keys, where, with_ca=ca is not None))
    return path


__all__ = ["CA_FILE", "CONFIG_FILE", "edge_toml", "write_bundle"]
