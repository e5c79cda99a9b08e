"""Adding, listing and revoking users; issuing tokens and one-click login codes; opening and
closing browser sessions; finding the principal behind a token or a session.

Used by the CLI (``community user``), the API and the demo; every function takes an ORM session
and commits what it changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.auth.models import ApiToken, LoginCode, User, UserSession
from hub.auth.principal import Principal, Via
from hub.auth.roles import Role
from hub.auth.tokens import digest, new_login_code, new_session_id, new_token, shown_prefix
from hub.org.models import ServiceCentre, Unit
from hub.venues.models import Venue

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"
_USERNAME = re.compile(USERNAME_PATTERN)


class UserError(ValueError):
    """A request about users that cannot be done (bad name, taken, wrong scope, unknown user)."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token in clear: shown once, then only its digest is kept."""

    username: str
    role: Role
    token: str
    prefix: str


@dataclass(frozen=True, slots=True)
class UserInfo:
    username: str
    role: Role
    centre_id: str | None
    unit_id: int | None
    created_at: datetime
    revoked_at: datetime | None
    tokens: int
    """Tokens that still work."""
    token_prefixes: tuple[str, ...]


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def check_scope(role: Role, centre_id: str | None, unit_id: int | None) -> None:
    """A centre_staff needs a centre, a venue_manager and a unit_contact a unit, and no other
    role takes either."""
    if role is Role.CENTRE_STAFF and (centre_id is None or unit_id is not None):
        raise UserError("a centre_staff user needs --centre (a service centre id) and no --unit")
    if role is Role.VENUE_MANAGER and (unit_id is None or centre_id is not None):
        raise UserError("a venue_manager user needs --unit (an owner unit id) and no --centre")
    if role is Role.UNIT_CONTACT and (unit_id is None or centre_id is not None):
        raise UserError("a unit_contact user needs --unit (its unit's id) and no --centre")
    if role not in {Role.CENTRE_STAFF, Role.VENUE_MANAGER, Role.UNIT_CONTACT} and (
        centre_id is not None or unit_id is not None
    ):
        raise UserError(f"a {role.value} user sees the whole city: give no --centre or --unit")


def add_user(
    db: Session,
    username: str,
    role: Role,
    *,
    centre_id: str | None = None,
    unit_id: int | None = None,
    now: datetime | None = None,
) -> IssuedToken:
    """A new user with its first token."""
    user = _insert_user(db, username, role, centre_id=centre_id, unit_id=unit_id, at=_now(now))
    issued = _issue(db, user, user.created_at)
    db.commit()
    return issued


def add_user_without_token(db: Session, username: str, role: Role) -> None:
    """A new user with no token yet: it logs in with login links (the demo's operator), and
    ``community user token NAME`` gives it one when a program needs it."""
    _insert_user(db, username, role, centre_id=None, unit_id=None, at=_now(None))
    db.commit()


def _insert_user(
    db: Session,
    username: str,
    role: Role,
    *,
    centre_id: str | None,
    unit_id: int | None,
    at: datetime,
) -> User:
    if not _USERNAME.match(username):
        raise UserError(
            f"username {username!r}: 2-64 characters, lower-case letters, digits, '.', '_', '-'"
        )
    check_scope(role, centre_id, unit_id)
    if centre_id is not None and db.get(ServiceCentre, centre_id) is None:
        raise UserError(f"no service centre {centre_id!r}")
    if unit_id is not None and db.get(Unit, unit_id) is None:
        raise UserError(f"no unit {unit_id}")
    if db.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(f"user {username!r} exists (revoked users keep their name)")
    user = User(
        username=username,
        role=role.value,
        centre_id=centre_id,
        unit_id=unit_id,
        created_at=at,
        revoked_at=None,
    )
    db.add(user)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise UserError(f"user {username!r} exists") from None
    return user


def issue_token(db: Session, username: str, *, now: datetime | None = None) -> IssuedToken:
    """Another token for an active user (the earlier ones keep working until revoked)."""
    user = _active(db, username)
    issued = _issue(db, user, _now(now))
    db.commit()
    return issued


def _issue(db: Session, user: User, at: datetime) -> IssuedToken:
    token = new_token()
    db.add(
        ApiToken(
            user_id=user.id,
            token_hash=digest(token),
            prefix=shown_prefix(token),
            created_at=at,
            revoked_at=None,
        )
    )
    return IssuedToken(user.username, Role(user.role), token, shown_prefix(token))


def revoke_user(db: Session, username: str, *, now: datetime | None = None) -> None:
    """The user's tokens stop working and its browser sessions end, at once."""
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"no user {username!r}")
    at = _now(now)
    if user.revoked_at is None:
        user.revoked_at = at
    db.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    db.execute(delete(UserSession).where(UserSession.user_id == user.id))
    db.execute(delete(LoginCode).where(LoginCode.user_id == user.id))
    db.commit()


def revoke_token(db: Session, token: str, *, now: datetime | None = None) -> bool:
    """This one token stops working (its user and other tokens go on); ``False`` if it was not
    a working token."""
    done = db.connection().execute(  # the connection's result has the rowcount
        update(ApiToken)
        .where(ApiToken.token_hash == digest(token), ApiToken.revoked_at.is_(None))
        .values(revoked_at=_now(now))
    )
    db.commit()
    return bool(done.rowcount)


def list_users(db: Session) -> list[UserInfo]:
    live = (
        select(ApiToken.user_id, ApiToken.prefix)
        .where(ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id)
    )
    prefixes: dict[int, list[str]] = {}
    for user_id, prefix in db.execute(live):
        prefixes.setdefault(user_id, []).append(prefix)
    return [
        UserInfo(
            username=u.username,
            role=Role(u.role),
            centre_id=u.centre_id,
            unit_id=u.unit_id,
            created_at=u.created_at,
            revoked_at=u.revoked_at,
            tokens=len(prefixes.get(u.id, [])),
            token_prefixes=tuple(prefixes.get(u.id, [])),
        )
        for u in db.scalars(select(User).order_by(User.username))
    ]


def active_operators(db: Session) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.OPERATOR.value, User.revoked_at.is_(None))
        )
        or 0
    )


def _active(db: Session, username: str) -> User:
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"no user {username!r}")
    if user.revoked_at is not None:
        raise UserError(f"user {username!r} is revoked")
    return user


# --- who is asking --------------------------------------------------------------------------


def principal_for_token(db: Session, token: str) -> Principal | None:
    """The active user whose unrevoked token this is, or ``None``."""
    user = db.scalar(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == digest(token),
            ApiToken.revoked_at.is_(None),
            User.revoked_at.is_(None),
        )
    )
    return None if user is None else principal_of(db, user, "token")


def principal_for_session(
    db: Session, session_id: str, *, now: datetime | None = None
) -> Principal | None:
    """The active user of an unexpired session, or ``None``."""
    user = db.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.session_hash == digest(session_id),
            UserSession.expires_at > _now(now),
            User.revoked_at.is_(None),
        )
    )
    return None if user is None else principal_of(db, user, "session")


def credential_works(db: Session, via: Via, secret: str, *, now: datetime | None = None) -> bool:
    """Whether a token or session id still authenticates its user: the same indexed digest
    lookup as ``principal_for_token``/``principal_for_session``, without building the principal
    (an open live stream asks this on every keep-alive)."""
    if via == "token":
        query = (
            select(ApiToken.id)
            .join(User, User.id == ApiToken.user_id)
            .where(
                ApiToken.token_hash == digest(secret),
                ApiToken.revoked_at.is_(None),
                User.revoked_at.is_(None),
            )
        )
    else:
        query = (
            select(UserSession.id)
            .join(User, User.id == UserSession.user_id)
            .where(
                UserSession.session_hash == digest(secret),
                UserSession.expires_at > _now(now),
                User.revoked_at.is_(None),
            )
        )
    return db.scalar(query) is not None


def principal_of(db: Session, user: User, via: Via) -> Principal:
    role = Role(user.role)
    sites: frozenset[str] | None = None
    if role is Role.CENTRE_STAFF and user.centre_id is not None:
        sites = frozenset({user.centre_id})
    elif role is Role.VENUE_MANAGER:
        sites = frozenset(db.scalars(select(Venue.id).where(Venue.unit_id == user.unit_id)))
    elif role is Role.UNIT_CONTACT:
        sites = frozenset()  # a unit's contact works its requests, sees no site
    return Principal(
        user_id=user.id,
        username=user.username,
        role=role,
        centre_id=user.centre_id,
        unit_id=user.unit_id,
        sites=sites,
        via=via,
    )


def open_session(
    db: Session, principal: Principal, ttl: timedelta, *, now: datetime | None = None
) -> str:
    """A new browser session for the principal; returns the cookie value (kept only hashed).
    Expired sessions are cleared on the way."""
    at = _now(now)
    session_id = new_session_id()
    db.execute(delete(UserSession).where(UserSession.expires_at <= at))
    db.add(
        UserSession(
            user_id=principal.user_id,
            session_hash=digest(session_id),
            created_at=at,
            expires_at=at + ttl,
        )
    )
    db.commit()
    return session_id


def close_session(db: Session, session_id: str) -> None:
    db.execute(delete(UserSession).where(UserSession.session_hash == digest(session_id)))
    db.commit()


# --- one-click login links ------------------------------------------------------------------


def issue_login_code(
    db: Session, username: str, ttl: timedelta, *, now: datetime | None = None
) -> str:
    """A single-use code that logs ``username`` in once, within ``ttl``: what a one-click link
    carries instead of a token. Only its digest is kept; expired codes are cleared on the way."""
    user = _active(db, username)
    at = _now(now)
    code = new_login_code()
    db.execute(delete(LoginCode).where(LoginCode.expires_at <= at))
    db.add(LoginCode(user_id=user.id, code_hash=digest(code), created_at=at, expires_at=at + ttl))
    db.commit()
    return code


def login_link(base_url: str, code: str) -> str:
    """The address that logs in with ``code``: in the fragment, which no browser sends on."""
    return f"{base_url.rstrip('/')}/login#code={code}"


def redeem_login_code(db: Session, code: str, *, now: datetime | None = None) -> Principal | None:
    """The active user a valid code was made for, or ``None``. The code is spent whether or not
    it still worked: of two requests racing with one code, only the one whose delete took the row
    gets a principal."""
    hashed = digest(code)
    row = db.execute(
        select(LoginCode.id, LoginCode.user_id, LoginCode.expires_at).where(
            LoginCode.code_hash == hashed
        )
    ).one_or_none()
    if row is None:
        return None
    taken = db.connection().execute(delete(LoginCode).where(LoginCode.id == row.id)).rowcount
    db.commit()
    if taken != 1 or row.expires_at <= _now(now):
        return None
    user = db.scalar(select(User).where(User.id == row.user_id, User.revoked_at.is_(None)))
    return None if user is None else principal_of(db, user, "session")
