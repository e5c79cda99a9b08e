"""Scope filters, applied server-side by the routes after ``require`` let the caller in.

The rule (docs/security.md): a scoped user's lists are narrowed to its scope; asking by name for
something outside it (another centre's check-ins, another unit's venue) is 403, not an empty
answer, so that a mistake is seen rather than taken for "nothing there".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from hub.api.auth import forbidden
from hub.auth.principal import Principal


def ensure_site(principal: Principal, site: str) -> None:
    """403 unless the principal may see ``site`` (a centre or venue id)."""
    if principal.sites is not None and site not in principal.sites:
        raise forbidden(f"{site!r} is outside the scope of user {principal.username!r}")


def site_conditions(
    principal: Principal, column: Any, requested: str | None
) -> list[ColumnElement[bool]]:
    """``column`` (a site, centre or venue id) limited to ``requested`` and to the scope."""
    if requested is not None:
        ensure_site(principal, requested)
        return [column == requested]
    if principal.sites is None:
        return []
    return [column.in_(sorted(principal.sites))]


def ensure_unit(principal: Principal, unit_id: int) -> None:
    """403 unless the principal may see the owner unit's venues."""
    if principal.unit_id is not None and unit_id != principal.unit_id:
        raise forbidden(f"unit {unit_id} is outside the scope of user {principal.username!r}")


def unit_conditions(
    principal: Principal, column: Any, requested: int | None
) -> list[ColumnElement[bool]]:
    """``column`` (an owner unit id) limited to ``requested`` and to a venue manager's unit."""
    if requested is not None:
        ensure_unit(principal, requested)
        return [column == requested]
    if principal.unit_id is None:
        return []
    return [column == principal.unit_id]
