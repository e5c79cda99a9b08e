"""The members' card vault (issue 9 item 8; docs/security.md); the keys are ``hub.core.card_keys``.

From the city key the hub derives each site's own key, whose hashes make that site's allowlist. To
make those it needs the card numbers, so each member's card is kept sealed to the hub's own public
key (``members.card_sealed``, the vault), which only the private key opens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import Connection, select, update

from hub.core.card_keys import CardKeyError, HubCardKeys, card_keys
from hub.core.settings import HubSettings
from hub.ingest.events import EventRecord
from hub.org.models import Member
from mqtt_contract.credentials import card_hash
from mqtt_contract.models import CheckinEvent


def enrolled_card(settings: HubSettings, card: str | None) -> dict[str, str | None]:
    """A member's card columns for ``card`` (``None``: no card): the city hash and, when the hub
    has its private key, the vault entry. Raises ``ValueError`` without the city key."""
    if card is None:
        return {"card_hash": None, "card_sealed": None}
    keys = card_keys(settings)
    if keys is None:  # a demo hub without its key file: the vault fills when the card is tapped
        return {"card_hash": card_hash(settings.card_key_bytes(), card), "card_sealed": None}
    return {**keys.enrol(card)}


def card_sealer(settings: HubSettings) -> Callable[[str], str] | None:
    """What makes enrolled cards' vault entries at this hub (``None``: no key file, left empty)."""
    keys = card_keys(settings)
    return None if keys is None else keys.seal


def learn_vault(conn: Connection, events: Iterable[object]) -> int:
    """Fill the vault of members whose card these newly recorded check-ins showed (opened at
    decode: both the city hash and the seal). Only an empty vault is filled; an edge's seal is to
    the same public key, so it is kept as it came. One query when nobody is learnt."""
    by_hash = {
        event.data.card_hash: event.data.card_sealed
        for event in events
        if isinstance(event, CheckinEvent)
        and event.data.card_hash is not None
        and event.data.card_sealed is not None
    }
    if not by_hash:
        return 0
    empty = conn.scalars(
        select(Member.card_hash).where(
            Member.card_hash.in_(list(by_hash)), Member.card_sealed.is_(None)
        )
    ).all()
    for city_hash in empty:
        if city_hash is not None:
            conn.execute(
                update(Member)
                .where(Member.card_hash == city_hash, Member.card_sealed.is_(None))
                .values(card_sealed=by_hash[city_hash])
            )
    return len(empty)


def learn_new_cards(conn: Connection, new_events: Sequence[EventRecord]) -> None:
    """Ingest's in-transaction hook (``hub.ingest.hooks.TransactionHook``): the vault learns the
    cards of newly recorded check-ins in the same commit."""
    learn_vault(conn, [r.event for r in new_events])


__all__ = [
    "CardKeyError",
    "HubCardKeys",
    "card_keys",
    "card_sealer",
    "enrolled_card",
    "learn_new_cards",
    "learn_vault",
]
