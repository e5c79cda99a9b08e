"""Allowlists from the records to the edge: versions follow content, the edge judges taps from its
cached list with the broker stopped, and takes a new version when one is published."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from demo.broker.mosquitto import MosquittoBroker
from hub.core.settings import HubSettings
from hub.org.allowlist import current_allowlists
from hub.org.allowlist_publisher import AllowlistPublisher
from tests.hub.org.support import Centre, City, hashed
from tests.hub.support import CARD_KEYS, wait_until

KNOWN, STRANGER = "0A1B2C3D4E", "FFEEDDCCBB"


def test_versions_change_only_with_the_content(city: City, engine: Engine) -> None:
    unit = city.add_unit("U01")
    member = city.add_member(unit, card=KNOWN)
    idle = city.add_centre("centre-02", city.add_community("C02", "康乐社区"))
    city.commit()
    now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    first = {a.site: (a, changed) for a, changed in current_allowlists(engine, CARD_KEYS, now)}
    allowlist, changed = first["centre-01"]
    assert changed
    assert allowlist.card_hashes == [CARD_KEYS.site_hash("centre-01", KNOWN)], "the site's key"
    assert hashed(KNOWN) not in allowlist.card_hashes, "never the city-wide hash"
    assert allowlist.version == int(now.timestamp())
    assert first[idle.id][0].card_hashes == []
    again = {
        a.site: (a, c) for a, c in current_allowlists(engine, CARD_KEYS, now + timedelta(minutes=1))
    }
    assert again["centre-01"] == (allowlist, False)

    member.in_service = False  # leaves: no longer allowed
    city.commit()
    later = now + timedelta(seconds=1)
    (bumped, changed) = next(
        (a, c) for a, c in current_allowlists(engine, CARD_KEYS, later) if a.site == "centre-01"
    )
    assert changed
    assert bumped.card_hashes == []
    assert bumped.version == allowlist.version + 1
    # A clock that went backwards never makes a version go backwards.
    member.in_service = True
    city.commit()
    (back, _) = next(
        (a, c)
        for a, c in current_allowlists(engine, CARD_KEYS, now - timedelta(days=1))
        if a.site == "centre-01"
    )
    assert back.version == bumped.version + 1


@pytest.fixture
def centre(tmp_path: Path, mosquitto: MosquittoBroker) -> Iterator[Centre]:
    handle = Centre(tmp_path / "edge", mosquitto)
    yield handle
    handle.close()


@pytest.fixture
def publisher(hub_settings: HubSettings) -> Iterator[AllowlistPublisher]:
    handle = AllowlistPublisher(hub_settings, interval_s=0.2)
    yield handle
    handle.stop()


def test_the_edge_answers_offline_and_takes_new_versions(
    city: City, publisher: AllowlistPublisher, centre: Centre, mosquitto: MosquittoBroker
) -> None:
    unit = city.add_unit("U01")
    city.add_member(unit, card=KNOWN)
    newcomer = city.add_member(unit)
    city.commit()
    assert centre.tap(KNOWN).data.decision == "unchecked", "no list has come yet"

    publisher.start()
    wait_until(lambda: centre.agent.allowlist.version is not None, what="the first allowlist")
    first = centre.agent.allowlist.version
    # The edge can hold the list before the publisher has read the broker's PUBACK.
    wait_until(lambda: publisher.published() == {"centre-01": first}, what="the PUBACK")
    tap = centre.tap(KNOWN)
    assert (tap.data.decision, tap.data.allowlist_version) == ("allowed", first)

    mosquitto.kill()
    centre.restart()  # with the broker down: the list comes from disk
    assert not centre.agent.publisher.connected
    assert centre.agent.allowlist.version == first
    known, stranger = centre.tap(KNOWN), centre.tap(STRANGER)
    assert (known.data.decision, known.data.allowlist_version) == ("allowed", first)
    assert (stranger.data.decision, stranger.data.allowlist_version) == ("unknown", first)

    newcomer.card_hash = hashed(STRANGER)  # the card is enrolled meanwhile
    newcomer.card_sealed = CARD_KEYS.seal(STRANGER)
    city.commit()
    mosquitto.start()
    wait_until(
        lambda: (centre.agent.allowlist.version or 0) > (first or 0),
        timeout=30,
        what="the new allowlist version at the edge",
    )
    second = centre.agent.allowlist.version
    wait_until(lambda: publisher.published() == {"centre-01": second}, what="the PUBACK")
    tap = centre.tap(STRANGER)
    assert (tap.data.decision, tap.data.allowlist_version) == ("allowed", second)
