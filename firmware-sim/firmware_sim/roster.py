"""Roster files: one card number (10 hex digits) per line, as exported from the member records."""

from __future__ import annotations

from pathlib import Path

from mqtt_contract.credentials import normalise_card


class RosterError(ValueError):
    """A roster file that cannot be used; the message names the file and line."""


def load_roster(path: Path) -> list[str]:
    """Normalised card numbers in file order. Blank lines and ``#`` comments are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"{path}: cannot read roster: {exc}") from exc
    cards: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            card = normalise_card(line)
        except ValueError:
            raise RosterError(
                f"{path}:{lineno}: {line!r} is not a card number (10 hex digits)"
            ) from None
        if card in cards:
            raise RosterError(f"{path}:{lineno}: card {card} is already on line {cards[card]}")
        cards[card] = lineno
    if not cards:
        raise RosterError(f"{path}: the roster has no card numbers")
    return list(cards)
