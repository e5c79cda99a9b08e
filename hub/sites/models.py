"""The site registry: one row per provisioned edge, tied to its service centre or venue.

A site's id is its centre's or venue's id and the username of its broker account. The hub keeps
the account's password only as a hash, in the format Mosquitto's dynamic-security plugin keeps
(``$7$iterations$salt$digest``, PBKDF2-SHA512), so the broker's accounts can be rebuilt from here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.audit.models import Audited
from hub.core.base import ID_LENGTH, Base, one_of

SITE_KINDS = ("centre", "venue")
ACCOUNT_STATES = ("active", "revoked")


class SiteAccount(Audited, Base):
    __tablename__ = "site_accounts"
    __audit_redact__ = ("password_hash",)
    __table_args__ = (
        CheckConstraint(one_of("kind", SITE_KINDS), name="kind"),
        CheckConstraint(one_of("state", ACCOUNT_STATES), name="state"),
        CheckConstraint(
            "(kind = 'centre' AND centre_id IS NOT NULL AND venue_id IS NULL)"
            " OR (kind = 'venue' AND venue_id IS NOT NULL AND centre_id IS NULL)",
            name="tied",
        ),
    )

    site_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    centre_id: Mapped[str | None] = mapped_column(
        ForeignKey("service_centres.id", ondelete="RESTRICT"), unique=True
    )
    venue_id: Mapped[str | None] = mapped_column(
        ForeignKey("venues.id", ondelete="RESTRICT"), unique=True
    )
    password_hash: Mapped[str] = mapped_column(String(200), doc="$7$ PBKDF2-SHA512, as Mosquitto")
    credentials_version: Mapped[int] = mapped_column(
        Integer, default=1, doc="how many passwords this site has had: 1 after add, +1 a rotation"
    )
    state: Mapped[str] = mapped_column(String(8), default="active")
    devices: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, doc="the edge config's devices, for the bundle"
    )
    created_at: Mapped[datetime]
    credentials_at: Mapped[datetime] = mapped_column(doc="when the current password was made")
    revoked_at: Mapped[datetime | None]


class SiteBeat(Base):
    """One heartbeat a step (``HubSettings.site_history_step_s``) of each site, for the
    operations page's history; kept ``site_history_keep_h`` (``hub.sites.history``)."""

    __tablename__ = "site_heartbeats"

    site_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    at: Mapped[datetime] = mapped_column(primary_key=True, doc="start of the step (hub time)")
    heartbeat_at: Mapped[datetime] = mapped_column(doc="the edge's time of the heartbeat kept")
    uptime_s: Mapped[float]
    outbox_depth: Mapped[int] = mapped_column(Integer)
    oldest_pending_s: Mapped[float | None]
    devices: Mapped[int] = mapped_column(Integer, doc="devices the heartbeat reported")
    devices_bad: Mapped[int] = mapped_column(Integer, doc="of them degraded or disconnected")
