"""The card of a check-in, as the hub keeps it: the city-wide pseudonym ``card_hash``.

An edge sends the card sealed to the hub (``card_sealed``); decoding opens it and puts the city
hash beside the seal (the seal stays for the members' vault, which the records package fills). An
edge not yet upgraded sends the city hash itself, taken only while ``HUB_ACCEPT_CITY_CARD_HASH``
allows: the migration window of docs/security.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.core.card_keys import HubCardKeys, SealError, card_keys
from hub.core.settings import HubSettings
from mqtt_contract.models import CheckinEvent


@dataclass(frozen=True)
class CardPolicy:
    keys: HubCardKeys | None
    accept_city_hash: bool

    @classmethod
    def of(cls, settings: HubSettings) -> CardPolicy:
        """Raises ``hub.core.card_keys.CardKeyError`` when the key file is set but unusable."""
        return cls(card_keys(settings), settings.accepts_city_card_hash)

    def opened(self, event: CheckinEvent) -> CheckinEvent | str:
        """The event with its city hash, or why it cannot be recorded (a dead letter's reason)."""
        sealed = event.data.card_sealed
        if sealed is None:
            if self.accept_city_hash:
                return event
            return (
                "check-in carries card_hash (the city-wide hash of an edge not yet upgraded) and "
                "this hub no longer accepts it (HUB_ACCEPT_CITY_CARD_HASH): upgrade the edge to "
                "seal cards (site_card_key, hub_card_public_key; docs/security.md)"
            )
        if self.keys is None:
            return (
                "check-in carries a sealed card but this hub has no card keys to open it "
                "(HUB_CARD_KEY and HUB_CARD_PRIVATE_KEY_FILE)"
            )
        try:
            card = self.keys.open(sealed)
        except SealError as exc:
            return str(exc)
        data = event.data.model_copy(update={"card_hash": self.keys.city_hash(card)})
        return event.model_copy(update={"data": data})


ANY_CARD = CardPolicy(keys=None, accept_city_hash=True)
"""For records made from fixed test data: city hashes taken, sealed cards refused."""
