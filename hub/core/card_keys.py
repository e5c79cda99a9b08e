"""The hub's card keys (issue 9 item 8; docs/security.md): the city key (``HUB_CARD_KEY``) of the
city-wide card hashes, and the X25519 private key (``HUB_CARD_PRIVATE_KEY_FILE``) that opens the
cards the edges seal to its public key. From the city key it derives each site's own key. Ingest
opens seals with these; the records package keeps the members' vault (``hub.org.cards``).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from pathlib import Path

from nacl.public import PrivateKey

from hub.core.private_files import make_private_dir, write_private
from hub.core.settings import HubSettings
from mqtt_contract.card_seal import (
    SealError,
    open_card,
    public_key_text,
    seal_card,
    site_card_key,
)
from mqtt_contract.credentials import card_hash

_OPENED_MAX = 200_000
"""Opened vault entries kept in memory: the allowlists are rebuilt every few seconds."""


class CardKeyError(ValueError):
    """The hub's card key file is missing or unusable; the message says which and why."""


@dataclass
class HubCardKeys:
    city_key: bytes
    private_key: PrivateKey
    _opened: dict[str, str] = field(default_factory=dict, repr=False)
    _site_keys: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def public_key(self) -> str:
        """What an edge's ``hub_card_public_key`` is set to."""
        return public_key_text(self.private_key.public_key)

    def city_hash(self, card: str) -> str:
        return card_hash(self.city_key, card)

    def site_key(self, site: str) -> str:
        """What the site's edge's ``site_card_key`` is set to."""
        return site_card_key(self.city_key, site)

    def site_hash(self, site: str, card: str) -> str:
        key = self._site_keys.get(site)
        if key is None:
            key = self._site_keys[site] = self.site_key(site).encode()
        return card_hash(key, card)

    def seal(self, card: str) -> str:
        """The card sealed to the hub's own public key: its vault entry."""
        return seal_card(self.private_key.public_key, card)

    def open(self, sealed: str) -> str:
        """The card inside a seal (an edge's or the vault's); raises ``SealError``."""
        card = self._opened.get(sealed)
        if card is None:
            card = open_card(self.private_key, sealed)
            if len(self._opened) >= _OPENED_MAX:
                self._opened.clear()
            self._opened[sealed] = card
        return card

    def enrol(self, card: str) -> dict[str, str]:
        """A member's columns for an enrolled card: the city hash and the vault entry."""
        return {"card_hash": self.city_hash(card), "card_sealed": self.seal(card)}


def read_private_key(path: Path) -> PrivateKey:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise CardKeyError(
            f"{path}: no card key file (HUB_CARD_PRIVATE_KEY_FILE); make one with "
            "`community cards keygen --out PATH`"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CardKeyError(f"{path}: cannot read the card key file: {exc}") from None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CardKeyError(f"{path}: the card key file is not base64") from None
    if len(raw) != PrivateKey.SIZE:
        raise CardKeyError(f"{path}: a card key is {PrivateKey.SIZE} bytes, got {len(raw)}")
    return PrivateKey(raw)


def write_new_private_key(path: Path) -> PrivateKey:
    """A new key in a new 0600 file; an existing file is never replaced (it would orphan every
    sealed card and vault entry made with the old key)."""
    if path.exists():
        raise CardKeyError(f"{path} exists; a card key is never overwritten")
    make_private_dir(path.parent)
    key = PrivateKey.generate()
    write_private(path, base64.b64encode(bytes(key)).decode() + "\n")
    return key


def card_keys(settings: HubSettings) -> HubCardKeys | None:
    """The hub's card keys, or ``None`` when either is unset (a demo hub run by hand); raises
    ``CardKeyError`` when the key file is set but unusable (production requires both keys)."""
    if settings.card_key is None or settings.card_private_key_file is None:
        return None
    return HubCardKeys(settings.card_key_bytes(), read_private_key(settings.card_private_key_file))


__all__ = [
    "CardKeyError",
    "HubCardKeys",
    "SealError",
    "card_keys",
    "read_private_key",
    "write_new_private_key",
]
