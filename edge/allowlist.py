"""The site's allowlist, kept on disk so that taps are judged locally, broker or no broker.

The hub publishes it retained on ``yp/v1/{site}/cmd/allowlist``; only a newer version than the one
held is taken. It is written atomically (a temporary file, fsync, rename, fsync of the directory),
so a power cut leaves the old list or the new one, never half of one. A list on disk that cannot
be read is set aside, and taps are ``unchecked`` until the hub sends one again.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from edge.private_files import make_private_dir, write_private
from mqtt_contract.models import Allowlist

log = logging.getLogger(__name__)

Decision = Literal["allowed", "unknown", "unchecked"]


class AllowlistCache:
    def __init__(self, path: Path, site: str) -> None:
        self._path = path
        self._site = site
        self._lock = threading.Lock()
        self._version: int | None = None
        self._cards: frozenset[str] = frozenset()
        self._load()

    @property
    def version(self) -> int | None:
        with self._lock:
            return self._version

    def judge(self, card_hash: str) -> tuple[Decision, int | None]:
        """``allowed`` or ``unknown`` by the list held, and its version; ``unchecked`` (version
        ``None``) while no list has ever arrived."""
        with self._lock:
            if self._version is None:
                return "unchecked", None
            return ("allowed" if card_hash in self._cards else "unknown"), self._version

    def offer(self, allowlist: Allowlist) -> bool:
        """Keep ``allowlist`` if it is for this site and newer than the one held; never raises
        (it runs on the MQTT client's thread)."""
        if allowlist.site != self._site:
            log.warning("ignoring an allowlist for site %s", allowlist.site)
            return False
        with self._lock:
            if self._version is not None and allowlist.version <= self._version:
                return False
            try:
                _write_atomically(self._path, allowlist.to_bytes())
            except OSError as exc:
                log.error("cannot store allowlist version %d: %s", allowlist.version, exc)
                return False
            self._version = allowlist.version
            self._cards = frozenset(allowlist.card_hashes)
        log.info(
            "allowlist version %d (%d cards) in use", allowlist.version, len(allowlist.card_hashes)
        )
        return True

    def _load(self) -> None:
        try:
            data = self._path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            log.error("cannot read the allowlist at %s: %s", self._path, exc)
            return
        try:
            allowlist = Allowlist.model_validate_json(data)
            if allowlist.site != self._site:
                raise ValueError(f"it is the allowlist of site {allowlist.site}")
        except (ValidationError, ValueError) as exc:
            aside = self._path.with_name(self._path.name + ".unreadable")
            log.error("allowlist at %s is unreadable (%s); moved to %s", self._path, exc, aside)
            os.replace(self._path, aside)
            return
        self._version = allowlist.version
        self._cards = frozenset(allowlist.card_hashes)
        log.info("allowlist version %d loaded from %s", self._version, self._path)


def _write_atomically(path: Path, data: bytes) -> None:
    make_private_dir(path.parent)
    write_private(path, data)  # card hashes: 0600 from the start, replaced by an atomic rename


def path_beside(outbox_path: Path) -> Path:
    """Where an agent keeps its allowlist: next to its outbox (``outbox.allowlist.json``)."""
    return outbox_path.with_name(f"{outbox_path.stem}.allowlist.json")
