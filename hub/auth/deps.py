"""Authentication and the permission check, as FastAPI dependencies: the one place the API
decides who may do what.

A request authenticates with ``Authorization: Bearer <token>`` or with the session cookie the
browser got from ``POST /api/v1/session``. Routes declare what they need::

    principal: Annotated[Principal, Depends(require(Permission.RECORDS_WRITE))]

(or ``dependencies=[Depends(require(...))]`` when they do not look at the principal): no
credentials → 401, a role without the permission → 403. Scope (a centre, an owner unit) is then
applied by the route with ``hub.auth.scope``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hub.auth.principal import Principal
from hub.auth.roles import Permission
from hub.auth.users import principal_for_session, principal_for_token

log = logging.getLogger(__name__)

SESSION_COOKIE = "yp_session"

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="an API token: `community user add NAME --role ROLE` prints one",
)
session_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="session",
    description="the browser's session, from POST /api/v1/session",
)

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers=_CHALLENGE)


def current_principal(
    request: Request,
    token: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    cookie: Annotated[str | None, Depends(session_cookie)],
) -> Principal | None:
    """The caller, ``None`` when no credentials came; 401 for credentials that do not work (a
    caller who sent some wants to know)."""
    if token is None and "authorization" in request.headers:
        raise unauthorized("the Authorization header must be 'Bearer <token>'")
    if token is None and not cookie:
        return None
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as db:  # its own short session: a stream must not hold a connection
        if token is not None:
            principal = principal_for_token(db, token.credentials)
            if principal is None:
                raise unauthorized("unknown or revoked token")
            return principal
        assert cookie is not None
        principal = principal_for_session(db, cookie)
        if principal is None:
            raise unauthorized("the session has ended: log in again")
        return principal


OptionalPrincipal = Annotated[Principal | None, Depends(current_principal)]


def principal_unless_database_down(
    request: Request,
    token: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    cookie: Annotated[str | None, Depends(session_cookie)],
) -> Principal | None:
    """For ``/healthz``: a database that is down cannot say who is asking, and the health check
    must still answer (503, no detail) rather than fail."""
    try:
        return current_principal(request, token, cookie)
    except SQLAlchemyError as exc:
        log.warning("health check: cannot authenticate, the database is unreachable: %s", exc)
        return None


def authenticated(principal: OptionalPrincipal) -> Principal:
    """Any user: 401 without credentials."""
    if principal is None:
        raise unauthorized("authentication required: a Bearer token or the session cookie")
    return principal


AuthenticatedDep = Annotated[Principal, Depends(authenticated)]


@cache
def require(permission: Permission) -> Callable[[Principal], Principal]:
    """A dependency that lets through users whose role has ``permission`` (one callable per
    permission, so FastAPI runs it once per request)."""

    def dependency(principal: AuthenticatedDep) -> Principal:
        if not principal.can(permission):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"the {principal.role.value} role may not {permission.value}",
            )
        return principal

    dependency.__name__ = f"require_{permission.name.lower()}"
    dependency.__doc__ = f"Needs the {permission.value!r} permission."
    return dependency


def forbidden(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=detail)
