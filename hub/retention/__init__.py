"""The hub's retention: every kind of data it keeps, each with its setting (docs/retention.md),
gathered from the domain packages that own them and purged by one job (``hub.retention.job``).
"""

from __future__ import annotations

from hub.audit.retention import audit_kind
from hub.auth.retention import login_kinds
from hub.core.retention import Kind
from hub.core.settings import HubSettings
from hub.ingest.retention import dead_letter_kind
from hub.notify.retention import notification_kind
from hub.org.retention import checkin_kind
from hub.sites.retention import heartbeat_kind
from hub.venues.retention import reading_kinds


def kinds(settings: HubSettings) -> list[Kind]:
    """Every kind the settings ask to purge; the audit log only with its setting (unset: it is
    kept forever)."""
    found = [
        checkin_kind(settings.retain_checkins_after_year_days),
        *reading_kinds(settings.retain_readings_days),
        dead_letter_kind(settings.retain_dead_letters_days),
        *login_kinds(settings.retain_sessions_days),
        heartbeat_kind(settings.site_history_keep_h),
        notification_kind(settings.retain_notifications_days),
    ]
    if settings.audit_retention_days is not None:
        found.append(audit_kind(settings.audit_retention_days))
    return found
