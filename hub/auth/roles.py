"""Roles and the permissions each one has: the hub's permission table, in one place.

Least privilege: each role gets what its people need for their work and nothing more. Three roles
are scoped: ``centre_staff`` to one service centre (and, for service requests, the communities it
serves), ``venue_manager`` to one owner unit (the unit that opened the venues), ``unit_contact``
to one resident unit (its service requests); the API narrows their lists to their scope and
answers 403 (404 for a service request) when they ask for something outside it.

A "community official" is ``centre_staff``: the people who take residents' matters are the staff
of the party-mass service centre that serves the community (a community's ``centre_id``), so
their scope is already there; a new community-scoped role would duplicate it. The records staff
(the organisation department) and the operator work every community's requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Literal


class Role(StrEnum):
    OPERATOR = "operator"
    """Runs the hub: everything, including devices, dead letters, metrics and users."""
    RECORDS_STAFF = "records_staff"
    """The organisation department: records, imports, the assessment, exports; reads all records."""
    CENTRE_STAFF = "centre_staff"
    """Staff of one service centre: its check-ins, attendance, activities and readers."""
    VENUE_MANAGER = "venue_manager"
    """The owner unit of shared venues: its venues, their occupancy, alerts and sharing rows."""
    UNIT_CONTACT = "unit_contact"
    """The contact person of one resident unit: the service requests transferred to it."""
    VIEWER = "viewer"
    """Read-only aggregates: venue occupancy and the venue-sharing report; no personal data."""


class Permission(StrEnum):
    ORGANISATION_READ = "organisation.read"
    """Sub-districts, communities, grids, party organisations, units, alliances, agreements,
    service centres, volunteer teams, the venue registry: the structure, no personal data."""
    ORGANISATION_WRITE = "organisation.write"
    """Create, update and archive sub-districts, communities, grids, party organisations,
    units, alliances and their chairs, agreements and their menus, volunteer teams and their
    members; import them."""
    REGISTRY_WRITE = "registry.write"
    """Create, update and archive service centres and venues (every field); upload the venue
    maps' outlines."""
    VENUE_HOURS_WRITE = "venues.hours"
    """A venue's opening hours, closures, capacity and alert threshold (a venue manager: its
    own unit's venues only)."""
    SITES_WRITE = "sites.write"
    """Provision, change and revoke sites and their devices."""
    AUDIT_READ = "audit.read"
    """The audit log."""
    RECORDS_READ = "records.read"
    """Members (names masked), registrations."""
    REQUESTS_READ = "service_requests.read"
    """Service requests and their history (contact masked): a centre_staff those of the
    communities its centre serves, a unit_contact those transferred to its unit."""
    REQUESTS_MANAGE = "service_requests.manage"
    """The community's side of a service request: raise, classify, transfer, confirm, reopen."""
    REQUESTS_HANDLE = "service_requests.handle"
    """The unit's side of a service request: accept, decline, resolve; see the resident's
    contact whole while its unit works on the request."""
    RECORDS_WRITE = "records.write"
    """Create and update members and registrations."""
    IMPORTS_WRITE = "imports.write"
    """Imports of every kind and their templates; an import needs the kind's own write
    permission as well (``hub.api.routes.imports.WRITE_PERMISSION``)."""
    ASSESSMENT_READ = "assessment.read"
    """The annual assessment and its CSV and XLSX exports."""
    CHECKINS_READ = "checkins.read"
    """Check-ins, the live feed of taps (masked names), attendance."""
    ACTIVITIES_READ = "activities.read"
    ACTIVITIES_WRITE = "activities.write"
    READINGS_READ = "readings.read"
    """Raw people-counter and bay readings."""
    VENUES_READ = "venues.read"
    """Venues with live occupancy, occupancy series, open days, capacity alerts."""
    VENUE_SHARING_READ = "venue_sharing.read"
    """The monthly venue-sharing report (JSON and CSV)."""
    DEVICES_READ = "devices.read"
    """Sites (edges) and devices with their state."""
    COMMANDS_READ = "commands.read"
    """Commands sent to edges, with their state and outcome."""
    COMMANDS_SEND = "commands.send"
    """Send any command to any edge: config, allowlist.resend, ping, restart, alert."""
    COMMANDS_ALERT = "commands.alert"
    """Send ``alert`` (the venue's sign) to an edge in scope."""
    DEAD_LETTERS_READ = "dead_letters.read"
    SYSTEM_READ = "system.read"
    """``/metrics`` and the detail of ``/healthz``."""
    USERS_ADMIN = "users.admin"
    """Add, list and revoke users."""
    NOTIFICATIONS_OWN = "notifications.own"
    """One's own notification settings and channels (WeCom, DingTalk, e-mail, webhook), and
    test messages to them; what one is notified of follows one's role and scope."""
    NOTIFICATIONS_READ = "notifications.read"
    """The log of every notification sent, to whom and with what outcome."""


P = Permission

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.OPERATOR: frozenset(Permission),
    Role.RECORDS_STAFF: frozenset(
        {
            P.ORGANISATION_READ,
            P.ORGANISATION_WRITE,
            P.RECORDS_READ,
            P.RECORDS_WRITE,
            P.REQUESTS_READ,
            P.REQUESTS_MANAGE,
            P.IMPORTS_WRITE,
            P.ASSESSMENT_READ,
            P.CHECKINS_READ,
            P.ACTIVITIES_READ,
            P.ACTIVITIES_WRITE,
            P.READINGS_READ,
            P.VENUES_READ,
            P.VENUE_SHARING_READ,
        }
    ),
    Role.CENTRE_STAFF: frozenset(
        {
            P.ORGANISATION_READ,
            P.CHECKINS_READ,
            P.ACTIVITIES_READ,
            P.ACTIVITIES_WRITE,
            P.DEVICES_READ,
            P.COMMANDS_READ,
            P.NOTIFICATIONS_OWN,
            P.REQUESTS_READ,
            P.REQUESTS_MANAGE,
        }
    ),
    Role.VENUE_MANAGER: frozenset(
        {
            P.ORGANISATION_READ,
            P.READINGS_READ,
            P.VENUES_READ,
            P.VENUE_HOURS_WRITE,
            P.VENUE_SHARING_READ,
            P.COMMANDS_READ,
            P.COMMANDS_ALERT,
            P.NOTIFICATIONS_OWN,
        }
    ),
    Role.UNIT_CONTACT: frozenset({P.ORGANISATION_READ, P.REQUESTS_READ, P.REQUESTS_HANDLE}),
    Role.VIEWER: frozenset({P.ORGANISATION_READ, P.VENUES_READ, P.VENUE_SHARING_READ}),
}

ScopeKind = Literal["centre", "unit"]

ROLE_SCOPE: Mapping[Role, ScopeKind] = {
    Role.CENTRE_STAFF: "centre",
    Role.VENUE_MANAGER: "unit",
    Role.UNIT_CONTACT: "unit",
}
"""The scoped roles and what they are scoped to; the other roles see the whole city."""
