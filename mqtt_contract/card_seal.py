"""What keeps one stolen edge box from revealing every card in the city (issue 9 item 8).

Card numbers have only 2**40 values, so a keyed hash is only as secret as its key: whoever holds
the key reverses every hash by trying every card. So no edge holds the city-wide key:

* each site's edge judges taps offline by ``card_hash(site_card_key, card)``, a key derived at the
  hub from the city key and the site id (:func:`site_card_key`); the hub publishes the site its
  allowlist in those per-site hashes, so an edge's key and allowlist reveal that site's cards only;
* each check-in carries the card sealed to the hub (``card_sealed``, a libsodium sealed box to the
  hub's X25519 public key, :func:`seal_card`): the edge cannot open what it sent, and every seal is
  different, so its outbox reveals nothing. The hub opens it and keeps the city-wide pseudonym
  ``card_hash(city_key, card)`` as before.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Annotated

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from pydantic import Field

from mqtt_contract.credentials import normalise_card

SITE_KEY_LABEL = b"yp site card key\0"
"""Domain separation: the site key is no other HMAC the city key makes."""

SEALED_CARD_MAX_CHARS = 256
SealedCard = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9+/]+={0,2}$",
        min_length=4,
        max_length=SEALED_CARD_MAX_CHARS,
        description="base64 of the card number sealed to the hub's public key (a libsodium "
        "sealed box); only the hub opens it",
    ),
]
"""The contract checks only the form; whether it opens is the hub's business (a dead letter)."""


class SealError(ValueError):
    """A sealed card that does not open with this key, or opens to something that is no card."""


def site_card_key(city_key: bytes, site: str) -> str:
    """The key a site's edge hashes cards with, as 64 hex digits: ``card_hash`` uses its UTF-8
    bytes, as the edge does with its configured ``site_card_key``."""
    if len(city_key) < 16:
        raise ValueError("card key must be at least 16 bytes")
    return hmac.new(city_key, SITE_KEY_LABEL + site.encode(), hashlib.sha256).hexdigest()


def public_key_from_text(text: str) -> PublicKey:
    """The hub's public key as configured at an edge: base64 of its 32 bytes."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("hub_card_public_key must be base64") from None
    if len(raw) != PublicKey.SIZE:
        raise ValueError(f"hub_card_public_key must be {PublicKey.SIZE} bytes, got {len(raw)}")
    return PublicKey(raw)


def public_key_text(key: PublicKey) -> str:
    return base64.b64encode(bytes(key)).decode()


def seal_card(public_key: PublicKey, card: str) -> str:
    """The normalised card number sealed to ``public_key``, as base64 (random each time)."""
    return base64.b64encode(SealedBox(public_key).encrypt(normalise_card(card).encode())).decode()


def open_card(private_key: PrivateKey, sealed: str) -> str:
    """The card number inside ``sealed``; raises :class:`SealError` with the reason."""
    try:
        raw = base64.b64decode(sealed, validate=True)
    except (binascii.Error, ValueError):
        raise SealError("card_sealed is not base64") from None
    try:
        clear = SealedBox(private_key).decrypt(raw)
    except CryptoError:  # also nacl's TypeError: shorter than a seal's overhead
        raise SealError(
            "card_sealed does not open with the hub's card key (sealed to another public key, "
            "or damaged): check hub_card_public_key in the edge's config"
        ) from None
    try:
        return normalise_card(clear.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise SealError("card_sealed opens, but not to a card number (10 hex digits)") from None
