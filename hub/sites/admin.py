"""Site changes asked for over the API: the same service as ``community site``, with the running
broker changed when the hub holds its admin account, and the bundle handed back as text.

A hub without ``HUB_BROKER_ADMIN_PASSWORD`` changes the registry only and says so: the broker
takes the change when it is rebuilt from the registry (``community broker-config``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hub.core.card_keys import card_keys
from hub.core.settings import HubSettings
from hub.sites.broker_config import site_acl
from hub.sites.broker_control import DynsecControl
from hub.sites.bundle import CONFIG_FILE, edge_toml
from hub.sites.models import SiteAccount
from hub.sites.service import BrokerAccounts, Credentials, SiteError

INSTALL_DIR = Path("/var/lib/yp-edge")
"""Where a box keeps its bundle and outbox unless told otherwise (docs/edge.md)."""
BROKER_UNCHANGED = (
    "the running broker is unchanged (the hub has no HUB_BROKER_ADMIN_PASSWORD): rebuild its "
    "accounts with `community broker-config` before it next starts"
)


@dataclass(frozen=True)
class Bundle:
    """What the box needs, as text: shown once (it holds the password)."""

    filename: str
    content: str
    ca_certificate: str | None


@contextmanager
def running_broker(settings: HubSettings) -> Iterator[BrokerAccounts | None]:
    """The broker's admin connection, or ``None`` when the hub holds no admin account."""
    if settings.broker_admin_password is None:
        yield None
        return
    with DynsecControl(settings, site_acl(settings)) as control:
        yield control


def check_bundle_possible(settings: HubSettings) -> None:
    """Before any change: a bundle that cannot be made must not cost a site its password."""
    if card_keys(settings) is None:
        raise SiteError(
            "a bundle carries the site's card key: set HUB_CARD_KEY and "
            "HUB_CARD_PRIVATE_KEY_FILE (docs/security.md, Cards)"
        )
    ca = settings.mqtt_ca_file
    if ca is not None and not ca.is_file():
        raise SiteError(f"HUB_MQTT_CA_FILE {ca} is not a readable file")


def bundle_for(
    row: SiteAccount,
    credentials: Credentials,
    settings: HubSettings,
    install_dir: Path = INSTALL_DIR,
) -> Bundle:
    keys = card_keys(settings)
    if keys is None:
        raise SiteError("a bundle carries the site's card key: set HUB_CARD_KEY")
    if not row.devices:
        raise SiteError(f"site {row.site_id!r} has no devices and an edge needs at least one")
    ca = settings.mqtt_ca_file
    content = edge_toml(row, credentials, settings, keys, install_dir, with_ca=ca is not None)
    return Bundle(
        filename=CONFIG_FILE,
        content=content,
        ca_certificate=ca.read_text(encoding="ascii") if ca is not None else None,
    )
