"""How a card credential becomes the keyed hash that travels and is stored.

The edge and the hub share the key; the clear card number stays on the edge (and at enrolment).
"""

from __future__ import annotations

import hashlib
import hmac
import re

_CARD_RE = re.compile(r"^[0-9A-F]{10}$")


def normalise_card(card: str) -> str:
    """EM4100 card numbers as 10 upper-case hex digits."""
    value = card.strip().upper()
    if not _CARD_RE.match(value):
        raise ValueError(f"card number must be 10 hex digits, got {card!r}")
    return value


def card_hash(key: bytes, card: str) -> str:
    """HMAC-SHA256 of the normalised card number, as 64 lower-case hex digits."""
    if len(key) < 16:
        raise ValueError("card key must be at least 16 bytes")
    return hmac.new(key, normalise_card(card).encode(), hashlib.sha256).hexdigest()
