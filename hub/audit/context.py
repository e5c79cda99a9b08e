"""Who is acting on a database session: said once where the session is opened (the API's
session dependency, a CLI command, an import), read by the recorder when it writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

_KEY = "audit_actor"


@dataclass(frozen=True)
class Actor:
    name: str
    """A user's name, or ``system``."""
    source: str
    """``api``, ``cli``, ``import`` or ``system`` (``hub.audit.models.AUDIT_SOURCES``)."""
    request_id: str | None = None
    request: str | None = None
    """``POST /api/v1/venues``, ``community site add venue-07``: what the change came from."""


SYSTEM = Actor(name="system", source="system")
"""Whoever changes a row with no one named: the hub itself (the seed, a background job)."""

ActorSource = Actor | Callable[[], Actor]
"""An actor, or how to find it when the first change is flushed (the API knows the user only
after its dependencies have run)."""


def act_as(session: Session, actor: ActorSource) -> None:
    session.info[_KEY] = actor


def actor_of(session: Session) -> Actor:
    actor: ActorSource = session.info.get(_KEY, SYSTEM)
    return actor if isinstance(actor, Actor) else actor()
