"""The demo's login: one operator, ``demo-operator``, and a one-click login link for it.

The link carries a single-use code that works for minutes (``issue_login_code``), never a token:
a browser's history keeps the address, and what is left there must be worth nothing. The
operator has no token of its own; ``community user token demo-operator`` makes one for a
program (curl), and ``community user login-link demo-operator`` another link.

Earlier demos kept a never-expiring operator token in ``credentials.json`` (``api_token``) and
printed it in the link: such a token is revoked when the demo next starts.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.auth.models import User
from hub.auth.roles import Role
from hub.auth.users import add_user_without_token, issue_login_code, login_link, revoke_token
from hub.core.db import make_engine, upgrade
from hub.core.settings import HubSettings

DEMO_OPERATOR = "demo-operator"
LINK_TTL = timedelta(seconds=HubSettings.model_fields["login_code_ttl_s"].default)


def demo_operator(db: Session) -> str:
    """The name of the demo's active operator, made if there is none."""
    active = db.scalar(
        select(User.username)
        .where(
            User.username.startswith(DEMO_OPERATOR),
            User.role == Role.OPERATOR.value,
            User.revoked_at.is_(None),
        )
        .order_by(User.id.desc())
    )
    if active is not None:
        return active
    name = DEMO_OPERATOR
    if db.scalar(select(User.id).where(User.username == name)) is not None:
        # revoked by hand: the demo makes itself another operator rather than undo that
        name = f"{DEMO_OPERATOR}-{db.scalar(select(User.id).order_by(User.id.desc()))}"
    add_user_without_token(db, name, Role.OPERATOR)
    return name


def demo_login_link(
    database_url: str, base_url: str, old_token: str | None = None, ttl: timedelta = LINK_TTL
) -> tuple[str, str]:
    """A fresh login link for the demo's operator, and the operator's name. ``old_token``: a
    token an earlier demo printed and kept, revoked now."""
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with Session(engine) as db:
            if old_token:
                revoke_token(db, old_token)
            name = demo_operator(db)
            return login_link(base_url, issue_login_code(db, name, ttl)), name
    finally:
        engine.dispose()
