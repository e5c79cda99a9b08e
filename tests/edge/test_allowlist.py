"""The edge's allowlist cache: newest version only, kept on disk atomically, read back on start."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.allowlist import AllowlistCache, path_beside
from mqtt_contract.credentials import card_hash
from mqtt_contract.models import Allowlist

KEY = b"edge-test-card-key-0123"
A, B = card_hash(KEY, "0A1B2C3D4E"), card_hash(KEY, "FFEEDDCCBB")


def allowlist(version: int, *cards: str, site: str = "centre-01") -> Allowlist:
    return Allowlist(
        site=site, version=version, issued_at=datetime.now(UTC), card_hashes=list(cards)
    )


def test_taps_are_unchecked_until_a_list_arrives_then_judged_by_it(tmp_path: Path) -> None:
    cache = AllowlistCache(tmp_path / "allowlist.json", "centre-01")
    assert cache.judge(A) == ("unchecked", None)
    assert cache.offer(allowlist(5, A))
    assert cache.judge(A) == ("allowed", 5)
    assert cache.judge(B) == ("unknown", 5)


def test_only_a_newer_list_for_this_site_is_taken(tmp_path: Path) -> None:
    cache = AllowlistCache(tmp_path / "allowlist.json", "centre-01")
    assert cache.offer(allowlist(5, A))
    assert not cache.offer(allowlist(5, B)), "the same version again"
    assert not cache.offer(allowlist(4, B)), "an older version (a stale retained message)"
    assert not cache.offer(allowlist(9, B, site="centre-02"))
    assert cache.judge(B) == ("unknown", 5)
    assert cache.offer(allowlist(6, B))
    assert cache.judge(A) == ("unknown", 6)
    assert cache.judge(B) == ("allowed", 6)


def test_the_list_survives_a_restart_and_is_written_atomically(tmp_path: Path) -> None:
    path = path_beside(tmp_path / "outbox.db")
    assert path == tmp_path / "outbox.allowlist.json"
    AllowlistCache(path, "centre-01").offer(allowlist(7, A))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outbox.allowlist.json"]
    again = AllowlistCache(path, "centre-01")
    assert again.version == 7
    assert again.judge(A) == ("allowed", 7)


def test_an_unreadable_list_is_set_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "allowlist.json"
    path.write_bytes(b'{"v": 1, "site": "centre-01", "version": 3, "card_ha')  # power cut
    with caplog.at_level(logging.ERROR):
        cache = AllowlistCache(path, "centre-01")
    assert cache.judge(A) == ("unchecked", None)
    assert "unreadable" in caplog.text
    assert (tmp_path / "allowlist.json.unreadable").exists()
    assert cache.offer(allowlist(1, A))
    assert cache.judge(A) == ("allowed", 1)


def test_a_list_that_cannot_be_stored_is_not_used(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    cache = AllowlistCache(blocked / "allowlist.json", "centre-01")  # parent is a file
    assert not cache.offer(allowlist(1, A))
    assert cache.judge(A) == ("unchecked", None)
