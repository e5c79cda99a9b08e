"""Who is asking: the user behind a request's token or session cookie, with what they may do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hub.auth.roles import ROLE_PERMISSIONS, Permission, Role

Via = Literal["token", "session"]


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    username: str
    role: Role
    centre_id: str | None
    """The service centre of a ``centre_staff``."""
    unit_id: int | None
    """The owner unit of a ``venue_manager``."""
    sites: frozenset[str] | None
    """The sites (edge site ids) this user may see: a centre_staff's centre, a venue_manager's
    venues; ``None`` for the roles that see every site."""
    via: Via

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS[self.role]

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]
