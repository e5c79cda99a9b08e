"""Users, roles and credentials of the hub's API and dashboard.

A user has one role (``roles.Role``) and, for the scoped roles, one scope: a service centre or an
owner unit. What each role may do is the table in ``roles.ROLE_PERMISSIONS`` (also in
docs/security.md); the API checks it in one place, ``hub.api.auth.require``.
"""

from __future__ import annotations

from hub.auth.principal import Principal
from hub.auth.roles import ROLE_PERMISSIONS, Permission, Role

__all__ = ["ROLE_PERMISSIONS", "Permission", "Principal", "Role"]
