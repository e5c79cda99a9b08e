"""Authentication and the permission check, as FastAPI dependencies: the one place the API
decides who may do what.

A request authenticates with ``Authorization: Bearer <token>`` or with the session cookie the
browser got from ``POST /api/v1/session``. Routes declare what they need::

    principal: Annotated[Principal, Depends(require(Permission.RECORDS_WRITE))]

(or ``dependencies=[Depends(require(...))]`` when they do not look at the principal): no
credentials → 401, a role without the permission → 403. Scope (a centre, an owner unit) is then
applied by the route with ``hub.api.scope``.

An unsafe request (POST, PUT, PATCH, DELETE) authenticated by the cookie must come from the
hub's own origin (``check_origin``): ``SameSite=Strict`` keeps other *sites* out, but a page on
another port or a sibling subdomain is the same site, and the browser would send it the cookie.
A bearer token is never sent by a browser on its own, so token requests need no such check.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hub.auth.principal import Principal, Via
from hub.auth.roles import Permission
from hub.auth.users import credential_works, principal_for_session, principal_for_token

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
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": "80", "https": "443"}


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
        else:
            assert cookie is not None
            check_origin(request, required=True)
            principal = principal_for_session(db, cookie)
            if principal is None:
                raise unauthorized("the session has ended: log in again")
    request.state.principal = principal  # who the audit log names (hub.api.deps.get_session)
    return principal


@dataclass(frozen=True, slots=True)
class Credential:
    """What a request authenticated with, kept by a long response (the live stream) to ask
    again later whether it still works."""

    via: Via
    secret: str


def presented_credential(
    token: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    cookie: Annotated[str | None, Depends(session_cookie)],
) -> Credential | None:
    """The credential ``current_principal`` goes by: the token if one came, else the cookie."""
    if token is not None:
        return Credential("token", token.credentials)
    return Credential("session", cookie) if cookie else None


CredentialDep = Annotated[Credential | None, Depends(presented_credential)]


def still_works(sessions: sessionmaker[Session], credential: Credential) -> bool:
    """Whether the credential is still good (not revoked, logged out or expired): one digest
    lookup on a short session of its own."""
    with sessions() as db:
        return credential_works(db, credential.via, credential.secret)


def check_origin(request: Request, *, required: bool) -> None:
    """403 for an unsafe request that a browser says came from another origin.

    ``Sec-Fetch-Site`` (set by the browser, no page can forge it) must be ``same-origin``; a
    browser without it sends ``Origin``, which must be this hub's (the ``Host`` it was asked
    for: a proxy in front must pass ``Host`` on). ``required``: a request carrying neither is
    refused too (one authenticated by the cookie); else it is taken for a program's."""
    if request.method not in UNSAFE_METHODS:
        return
    problem = _cross_origin(request, required=required)
    if problem is not None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"cross-origin request refused ({problem}): the session cookie works only "
            "for the hub's own pages; programs send 'Authorization: Bearer <token>'",
        )


def _cross_origin(request: Request, *, required: bool) -> str | None:
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return None if fetch_site == "same-origin" else f"Sec-Fetch-Site: {fetch_site}"
    origin = request.headers.get("origin")
    if origin is None:
        return "no Origin header" if required else None
    if _netloc(origin) != _host(request.headers.get("host", ""), origin):
        return f"Origin: {origin}"
    return None


def _netloc(origin: str) -> str | None:
    """``host[:port]`` of an Origin, without the scheme's default port; ``None`` for ``null``."""
    scheme, sep, rest = origin.strip().lower().partition("://")
    if not sep or not rest or "/" in rest:
        return None
    host, _, port = rest.rpartition(":") if rest.count(":") == 1 else (rest, "", "")
    return host if port == _DEFAULT_PORTS.get(scheme) else rest


def _host(host: str, origin: str) -> str:
    scheme = origin.strip().lower().partition("://")[0]
    host = host.strip().lower()
    default = ":" + _DEFAULT_PORTS.get(scheme, "")
    return host.removesuffix(default) if default != ":" else host


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
