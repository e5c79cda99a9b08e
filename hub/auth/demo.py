"""The demo's login: one operator, ``demo-operator``, whose token the demo keeps in its
credentials file and prints as a one-click login link.

The token in the file is reused while it still works (restarts keep the same link); if it was
revoked or the database is new, a fresh one is issued.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.auth.models import User
from hub.auth.roles import Role
from hub.auth.users import add_user, issue_token, principal_for_token
from hub.core.db import make_engine, upgrade

DEMO_OPERATOR = "demo-operator"


def demo_operator_token(database_url: str, known: str | None) -> str:
    """``known`` if it is still an operator's working token, else a new operator token."""
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with Session(engine) as db:
            if known:
                principal = principal_for_token(db, known)
                if principal is not None and principal.role is Role.OPERATOR:
                    return known
            user = db.scalar(select(User).where(User.username == DEMO_OPERATOR))
            if user is None:
                return add_user(db, DEMO_OPERATOR, Role.OPERATOR).token
            if user.revoked_at is None:
                return issue_token(db, DEMO_OPERATOR).token
            # revoked by hand: the demo makes itself another operator rather than undo that
            name = f"{DEMO_OPERATOR}-{db.scalar(select(User.id).order_by(User.id.desc()))}"
            return add_user(db, name, Role.OPERATOR).token
    finally:
        engine.dispose()
