"""The broker's accounts built from the registry: what a fresh Mosquitto starts with.

The hub's account, the admin account that ``community site`` changes accounts with, any further
privileged accounts a caller names (the demo's test publisher), and every active site with the
hash the registry keeps, bound to its client id ``edge-<site>``. Revoked sites have no account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.broker.acl import BrokerAcl, contract_acl, edge_client_ids
from hub.broker.dynsec import PasswordHash, dynsec_config, hash_password, parse_hash, write_config
from hub.broker.mosquitto_conf import mosquitto_conf
from hub.broker.tls import TLS_PORT, BrokerCertificates, tls_listener_lines
from hub.core.private_files import make_private_dir, write_private
from hub.core.settings import HubSettings
from hub.sites.models import SiteAccount
from hub.sites.service import SiteError

DYNSEC_FILE = "dynamic-security.json"
CONF_FILE = "mosquitto.conf"


def site_acl(settings: HubSettings, publishers: tuple[str, ...] = ()) -> BrokerAcl:
    """The contract's ACL with this hub's account names."""
    return contract_acl(
        hub_users=[settings.mqtt_username],
        publishers=publishers,
        admins=[settings.broker_admin_username],
    )


def registry_hashes(session: Session) -> dict[str, PasswordHash]:
    rows = session.scalars(
        sa.select(SiteAccount).where(SiteAccount.state == "active").order_by(SiteAccount.site_id)
    )
    hashes = {}
    for row in rows:
        try:
            hashes[row.site_id] = parse_hash(row.password_hash)
        except ValueError as exc:
            raise SiteError(
                f"site {row.site_id!r}: its stored password hash is unusable: {exc}"
            ) from None
    return hashes


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    dynsec: dict[str, Any]
    sites: int


def registry_broker_config(
    session: Session,
    settings: HubSettings,
    *,
    extra: Mapping[str, str] | None = None,
) -> BrokerConfig:
    """The dynamic-security document for the registry. ``extra`` maps further privileged
    accounts (read and write the whole prefix, as the hub) to their passwords."""
    hub_password, admin_password = settings.mqtt_password, settings.broker_admin_password
    if hub_password is None or admin_password is None:
        missing = [
            name
            for name, value in (
                ("HUB_MQTT_PASSWORD", hub_password),
                ("HUB_BROKER_ADMIN_PASSWORD", admin_password),
            )
            if value is None
        ]
        raise SiteError(f"the broker's accounts need {' and '.join(missing)}")
    extra = dict(extra or {})
    privileged = {
        settings.mqtt_username: hub_password.get_secret_value(),
        settings.broker_admin_username: admin_password.get_secret_value(),
        **extra,
    }
    sites = registry_hashes(session)
    if clash := sorted(set(sites) & set(privileged)):
        raise SiteError(f"site ids {clash} clash with privileged broker accounts")
    accounts = {user: hash_password(password) for user, password in privileged.items()}
    accounts.update(sites)
    acl = site_acl(settings, publishers=tuple(extra))
    config = dynsec_config(acl, accounts, edge_client_ids(acl, list(sites)))
    return BrokerConfig(config, len(sites))


def write_broker_dir(
    out: Path,
    config: BrokerConfig,
    *,
    listener: str,
    plugin: str,
    persistence_dir: Path | None = None,
    tls: BrokerCertificates | None = None,
    tls_listener: str = str(TLS_PORT),
) -> tuple[Path, Path]:
    """``mosquitto.conf`` and ``dynamic-security.json`` in ``out`` (0700, files 0600); with
    ``tls`` a second listener (``tls_listener``, Mosquitto's ``PORT [ADDRESS]``) on those
    certificates (their paths as the broker sees them), the one edges dial."""
    make_private_dir(out)
    directory = out.absolute()
    dynsec_path, conf_path = directory / DYNSEC_FILE, directory / CONF_FILE
    write_config(dynsec_path, config.dynsec)
    write_private(
        conf_path,
        mosquitto_conf(
            listener=listener,
            plugin=plugin,
            dynsec_file=dynsec_path,
            persistence_dir=persistence_dir or directory,
            extra=_tls_lines(tls, tls_listener) if tls else (),
        ),
    )
    return conf_path, dynsec_path


def _tls_lines(tls: BrokerCertificates, listener: str) -> list[str]:
    port, _, bind = listener.partition(" ")
    if not port.isdigit() or not 0 < int(port) < 65_536:
        raise ValueError(f"--tls-listener {listener!r}: not `PORT [ADDRESS]`")
    return [
        # a city's broker (the edges dial it over TLS): the hub's persistent session keeps up to
        # this many messages while the hub restarts (Mosquitto's default, 1000, would drop the
        # rest until the edges resend), saved to disk every minute rather than every half hour
        "max_queued_messages 100000",
        "autosave_interval 60",
        "set_tcp_nodelay true",
        *tls_listener_lines(tls, int(port), bind.strip() or None),
    ]
