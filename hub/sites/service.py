"""Adding, rotating and revoking sites: the registry row and the broker account change together.

Each change is made in the database first (flushed, not committed), then on the broker; only when
the broker has taken it is the row committed, so a broker that says no leaves the registry as it
was. The password is made here (``secrets``), handed back once to be written into the site's
bundle, and kept only as its ``$7$`` hash.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.broker.dynsec import format_hash, hash_password
from hub.sites.devices import check_devices
from hub.sites.models import SITE_KINDS, SiteAccount
from mqtt_contract.topics import is_valid_id

# The records this package ties a site to, by table name: hub.org and hub.venues are its
# siblings, not its imports (pyproject's layer contract).
_RECORDS = {
    "centre": sa.table("service_centres", sa.column("id")),
    "venue": sa.table("venues", sa.column("id")),
}
_RECORD_NAMES = {"centre": "service centre", "venue": "venue"}


class SiteError(ValueError):
    """A site change that cannot be made; the message says why and what to do."""


class BrokerAccounts(Protocol):
    """What the registry asks of a running broker (``DynsecControl``); ``None``: leave it."""

    def add(self, site: str, password: str) -> None: ...
    def set_password(self, site: str, password: str) -> None: ...
    def remove(self, site: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Credentials:
    """A site's new password: shown once, never stored."""

    site: str
    password: str
    version: int


def new_password() -> str:
    return secrets.token_urlsafe(24)


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def find_site(session: Session, site: str) -> SiteAccount:
    if not is_valid_id(site):
        raise SiteError(f"{site!r} is not a site id: use a-z, 0-9, '-' or '_' (at most 63)")
    row = session.get(SiteAccount, site)
    if row is None:
        raise SiteError(f"no site {site!r} in the registry (`community site list` shows them)")
    return row


def active_site(session: Session, site: str, doing: str) -> SiteAccount:
    row = find_site(session, site)
    if row.state == "revoked":
        raise SiteError(
            f"site {site!r} was revoked on {row.revoked_at:%Y-%m-%d %H:%M} UTC; cannot {doing} "
            f"it (`community site add {site} --kind {row.kind} --reinstate` provisions it again)"
        )
    return row


def list_sites(session: Session) -> list[SiteAccount]:
    return list(session.scalars(sa.select(SiteAccount).order_by(SiteAccount.site_id)))


def add_site(
    session: Session,
    site: str,
    kind: str,
    *,
    centre: str | None = None,
    venue: str | None = None,
    devices: Iterable[Mapping[str, Any]] = (),
    reserved: Sequence[str] = (),
    reinstate: bool = False,
    broker: BrokerAccounts | None = None,
    now: datetime | None = None,
) -> Credentials:
    """Register ``site`` (the id of its service centre or venue), make its password and account.
    ``reserved``: usernames that are no site (the hub's and the admin's broker accounts)."""
    if not is_valid_id(site):
        raise SiteError(f"{site!r} is not a site id: use a-z, 0-9, '-' or '_' (at most 63)")
    if kind not in SITE_KINDS:
        raise SiteError(f"kind must be one of {', '.join(SITE_KINDS)}, not {kind!r}")
    if site in reserved:
        raise SiteError(f"{site!r} is the name of a privileged broker account, not a site")
    named = {"centre": centre, "venue": venue}
    if named["venue" if kind == "centre" else "centre"] is not None:
        raise SiteError(f"a {kind} site is tied to a {_RECORD_NAMES[kind]}: drop --centre/--venue")
    if named[kind] is not None and named[kind] != site:
        raise SiteError(
            f"a site's id is its {_RECORD_NAMES[kind]}'s id: --{kind} {named[kind]} names "
            f"another record than {site!r}"
        )
    record = _RECORDS[kind]
    if session.scalar(sa.select(record.c.id).where(record.c.id == site)) is None:
        raise SiteError(
            f"no {_RECORD_NAMES[kind]} {site!r} in the records: add it first (a site is tied "
            "to an existing record)"
        )
    checked = check_devices(devices)
    existing = session.get(SiteAccount, site)
    if existing is not None and existing.state == "active":
        raise SiteError(
            f"site {site!r} is already provisioned (since {existing.created_at:%Y-%m-%d}); "
            f"`community site rotate {site}` gives it new credentials"
        )
    if existing is not None and not reinstate:
        raise SiteError(
            f"site {site!r} was revoked on {existing.revoked_at:%Y-%m-%d %H:%M} UTC; add "
            "--reinstate to provision it again with new credentials"
        )
    if existing is not None and existing.kind != kind:
        raise SiteError(f"site {site!r} was a {existing.kind} site, not a {kind} site")
    when = _now(now)
    password = new_password()
    stored = format_hash(hash_password(password))
    if existing is None:
        row = SiteAccount(
            site_id=site,
            kind=kind,
            centre_id=site if kind == "centre" else None,
            venue_id=site if kind == "venue" else None,
            password_hash=stored,
            credentials_version=1,
            state="active",
            devices=checked,
            created_at=when,
            credentials_at=when,
        )
        session.add(row)
    else:
        row = existing
        row.password_hash, row.credentials_version = stored, existing.credentials_version + 1
        row.state, row.revoked_at, row.credentials_at = "active", None, when
        if checked:
            row.devices = checked
    _commit_after(session, lambda: broker.add(site, password) if broker else None)
    return Credentials(site, password, row.credentials_version)


def rotate_site(
    session: Session,
    site: str,
    *,
    broker: BrokerAccounts | None = None,
    now: datetime | None = None,
) -> Credentials:
    """A new password; the old one stops working (the broker disconnects its client)."""
    row = active_site(session, site, "rotate")
    password = new_password()
    row.password_hash = format_hash(hash_password(password))
    row.credentials_version += 1
    row.credentials_at = _now(now)
    _commit_after(session, lambda: broker.set_password(site, password) if broker else None)
    return Credentials(site, password, row.credentials_version)


def revoke_site(
    session: Session,
    site: str,
    *,
    broker: BrokerAccounts | None = None,
    now: datetime | None = None,
) -> SiteAccount:
    """The account is deleted at the broker (its client disconnected); the row stays, revoked."""
    row = active_site(session, site, "revoke")
    row.state, row.revoked_at = "revoked", _now(now)
    _commit_after(session, lambda: broker.remove(site) if broker else None)
    return row


def set_devices(session: Session, site: str, devices: Iterable[Mapping[str, Any]]) -> SiteAccount:
    row = active_site(session, site, "change the devices of")
    row.devices = check_devices(devices)
    session.commit()
    return row


def _commit_after(session: Session, change_broker: Callable[[], object]) -> None:
    try:
        session.flush()  # a constraint the registry breaks stops us before the broker changes
        change_broker()
    except BaseException:
        session.rollback()
        raise
    session.commit()
