"""Logging in and out of the dashboard, who am I, and the users (for operators).

``POST /api/v1/session`` exchanges an API token, or the single-use code of a one-click login link,
for an HttpOnly, SameSite=Strict session cookie, so that the browser's pages and its EventSource
authenticate without any script holding the token. ``DELETE /api/v1/session`` logs out.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from sqlalchemy import select

from hub.api.auth import (
    SESSION_COOKIE,
    AuthenticatedDep,
    check_origin,
    require,
    unauthorized,
)
from hub.api.deps import SessionDep, SettingsDep
from hub.api.errors import AUTHENTICATED, refusals
from hub.api.schemas import Page
from hub.api.schemas.auth import CodeLogin, MeOut, NewUserOut, TokenLogin, UserIn, UserOut
from hub.auth.models import User
from hub.auth.principal import Principal
from hub.auth.roles import Permission
from hub.auth.users import (
    USERNAME_PATTERN,
    UserError,
    UserInfo,
    add_user,
    close_session,
    list_users,
    open_session,
    principal_for_token,
    redeem_login_code,
    revoke_user,
)

router = APIRouter(tags=["auth"])


def me_out(principal: Principal) -> MeOut:
    return MeOut(
        username=principal.username,
        role=principal.role,
        centre_id=principal.centre_id,
        unit_id=principal.unit_id,
        sites=None if principal.sites is None else sorted(principal.sites),
        permissions=sorted(principal.permissions),
        via=principal.via,
    )


@router.post(
    "/session",
    response_model=MeOut,
    responses={
        401: {"description": "unknown or revoked token; unknown, used or expired code"},
        403: {"description": "posted from a page of another origin"},
        **refusals(400),
    },
)
def log_in(
    body: TokenLogin | CodeLogin,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> MeOut:
    """Exchange an API token, or a login link's code (once), for a session cookie (HttpOnly,
    SameSite=Strict; Secure in production) lasting ``HUB_SESSION_TTL_H`` hours."""
    check_origin(request, required=False)
    if isinstance(body, CodeLogin):
        principal = redeem_login_code(session, body.code.strip())
        if principal is None:
            raise unauthorized("this login link is used, expired or unknown: ask for a new one")
    else:
        principal = principal_for_token(session, body.token.strip())
        if principal is None:
            raise unauthorized("unknown or revoked token")
    ttl = timedelta(hours=settings.session_ttl_h)
    value = open_session(session, principal, ttl)
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=int(ttl.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.session_cookie_secure,
    )
    return me_out(principal)


@router.delete(
    "/session",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={403: {"description": "sent from a page of another origin"}},
)
def log_out(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """End this browser's session (whatever state it is in) and clear its cookie."""
    value = request.cookies.get(SESSION_COOKIE)
    check_origin(request, required=bool(value))
    if value:
        close_session(session, value)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.session_cookie_secure,
    )
    return response


@router.get("/me", response_model=MeOut, responses=refusals(401))
def me(principal: AuthenticatedDep) -> MeOut:
    """Who the credentials belong to and what they may do (the dashboard shows what this allows)."""
    return me_out(principal)


# --- users (operators) ----------------------------------------------------------------------


def _user_out(info: UserInfo) -> UserOut:
    return UserOut(
        username=info.username,
        role=info.role,
        centre_id=info.centre_id,
        unit_id=info.unit_id,
        created_at=info.created_at,
        revoked_at=info.revoked_at,
        tokens=info.tokens,
        token_prefixes=list(info.token_prefixes),
    )


@router.get(
    "/users",
    response_model=Page[UserOut],
    dependencies=[Depends(require(Permission.USERS_ADMIN))],
    responses=refusals(401, 403),
)
def users(session: SessionDep) -> Page[UserOut]:
    """Every user, revoked ones too, with the prefixes of their working tokens."""
    data = [_user_out(u) for u in list_users(session)]
    return Page(data=data, count=len(data))


@router.post(
    "/users",
    response_model=NewUserOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require(Permission.USERS_ADMIN))],
    responses=AUTHENTICATED | refusals(400, 409),
)
def create_user(session: SessionDep, body: UserIn) -> NewUserOut:
    """A new user and its first token (in the answer, once); 409 if the name is taken (revoked
    users keep theirs)."""
    if session.scalar(select(User.id).where(User.username == body.username)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"user {body.username!r} exists")
    try:
        issued = add_user(
            session, body.username, body.role, centre_id=body.centre_id, unit_id=body.unit_id
        )
    except UserError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return NewUserOut(username=issued.username, role=issued.role, token=issued.token)


@router.post(
    "/users/{username}/revoke",
    response_model=UserOut,
    responses=AUTHENTICATED | refusals(404),
    dependencies=[Depends(require(Permission.USERS_ADMIN))],
)
def revoke(
    session: SessionDep,
    username: Annotated[str, Path(pattern=USERNAME_PATTERN, examples=["wang.centre01"])],
) -> UserOut:
    """The user's tokens stop working and its sessions end at once; the row stays."""
    try:
        revoke_user(session, username)
    except UserError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    info = next(u for u in list_users(session) if u.username == username)
    return _user_out(info)
