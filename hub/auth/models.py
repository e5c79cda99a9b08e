"""Users and their credentials (SQLAlchemy 2, typed ``Mapped[]``).

A user is a person or a program that calls the API. Tokens and sessions are stored only as
digests (``hub.auth.tokens``). A revoked user keeps its row (who had access, until when) but no
credential of it works any more.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.audit.models import Audited
from hub.auth.roles import Role
from hub.core.base import ID_LENGTH, Base

USERNAME_LENGTH = 64
ROLES = tuple(r.value for r in Role)
UNIT_SCOPE_CHECK = "(role IN ('venue_manager', 'unit_contact')) = (unit_id IS NOT NULL)"


class User(Audited, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN ({', '.join(repr(r) for r in ROLES)})", name="role"),
        CheckConstraint("(role = 'centre_staff') = (centre_id IS NOT NULL)", name="centre_scope"),
        CheckConstraint(UNIT_SCOPE_CHECK, name="unit_scope"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_LENGTH), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    centre_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("service_centres.id"), doc="a centre_staff's centre"
    )
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id"), doc="a venue_manager's owner unit, a unit_contact's unit"
    )
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class ApiToken(Audited, Base):
    """A bearer token (``Authorization: Bearer yp_...``), shown once when made."""

    __tablename__ = "api_tokens"
    __audit_redact__ = ("token_hash",)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, doc="SHA-256, hex")
    prefix: Mapped[str] = mapped_column(String(16), doc="the first characters, to tell it apart")
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class UserSession(Base):
    """A browser's login: the HttpOnly cookie's value, by digest, until it expires or logs out."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True, doc="SHA-256, hex")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LoginCode(Base):
    """A one-click login link's code: exchanged once for a browser session, within minutes.

    The link (``/login#code=...``) stays in the browser's history, so what it carries must be
    worthless once used or a few minutes old; only the code's digest is kept."""

    __tablename__ = "login_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True, doc="SHA-256, hex")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
