"""A seeded city (SQLite and PostgreSQL) served with no default credentials, users of each role,
gate and bay readings at venues of two owner units, and a capacity alert at one venue of each."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from sqlalchemy import Engine, select

from demo.seed import seed_city
from hub.api import create_app
from hub.auth import Role
from hub.composition import build_store
from hub.core.settings import HubSettings
from hub.ingest.decode import decode
from hub.ingest.events import InboundMessage
from hub.live import LiveFeed
from hub.venues.models import Venue
from hub.venues.service import OccupancyService
from mqtt_contract import topics
from mqtt_contract.models import BaysData, BaysEvent, CounterData, CounterEvent
from tests.hub.auth.support import (
    ALERTING_VENUES,
    CENTRE,
    OTHER_VENUE,
    UNIT,
    UNIT_VENUES,
    YEAR,
    Secured,
)
from tests.hub.org.test_seed import SMALL
from tests.hub.support import CARD_KEY, CARDS, ApiServer, card_key_file
from tests.hub.test_stream import _stop
from tests.users import user_token

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def _gate_reading(site: str, seq: int) -> InboundMessage:
    event = CounterEvent(
        id=uuid.uuid4(),
        site=site,
        device="gate-1",
        boot=uuid.UUID(int=seq),
        seq=seq,
        ts=T0 + timedelta(minutes=seq),
        data=CounterData(unit_id=1, device_boots=1, count_in=10 * seq, count_out=seq),
    )
    return _inbound(site, "gate-1", topics.EventKind.COUNTER, event.to_bytes())


def _bay_reading(site: str, seq: int, bays: str) -> InboundMessage:
    """A venue's bay sensors (which the hub prefers to its gates): every bay taken is a full
    venue, and a capacity alert."""
    event = BaysEvent(
        id=uuid.uuid4(),
        site=site,
        device="bays-1",
        boot=uuid.UUID(int=seq),
        seq=seq,
        ts=T0 + timedelta(minutes=seq),
        data=BaysData(unit_id=2, bays=bays),
    )
    return _inbound(site, "bays-1", topics.EventKind.BAYS, event.to_bytes())


def _inbound(site: str, device: str, kind: topics.EventKind, payload: bytes) -> InboundMessage:
    return InboundMessage(
        topic=topics.event(site, device, kind),
        payload=payload,
        mid=1,
        qos=1,
        retained=False,
        received_at=datetime.now(UTC),
        generation=1,
    )


@pytest.fixture
def secured(
    db_settings: HubSettings, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Secured]:
    seed_city(engine, seed=5, key=CARD_KEY, year=YEAR, scale=SMALL)
    venues = [*UNIT_VENUES, OTHER_VENUE]
    with engine.connect() as conn:
        capacity = {venue: size for venue, size in conn.execute(select(Venue.id, Venue.capacity))}
    readings = [_gate_reading(site, n) for n, site in enumerate(venues, 1)]
    readings += [
        _bay_reading(site, n, "1" * capacity[site] if site in ALERTING_VENUES else "10")
        for n, site in enumerate(venues, 1)
    ]
    records = [decode(m, cards=CARDS) for m in readings]
    build_store(engine).write(records)
    # Occupancy as the hub derives it: a full venue raises an alert. Nothing is published here
    # (the broker path is tests/hub/venues/test_api.py's); the API reads the alerts' rows.
    occupancy = OccupancyService(
        engine,
        CollectorRegistry(),
        publish=lambda _topic, _payload: False,
        clock=lambda: T0 + timedelta(hours=2),
    )
    occupancy.after_commit(records)
    settings = db_settings.model_copy(
        update={
            "card_key": SecretStr(CARD_KEY.decode()),
            # a site's bundle (POST /api/v1/sites) carries its card key
            "card_private_key_file": card_key_file(tmp_path_factory.getbasetemp()),
            # every role calls every public route, from one address: the limit is not this test's
            "public_rate_burst": 10_000,
            # the permission test sends a resident's request as every role
            "request_rate_burst": 1000,
        }
    )
    url = settings.database_url
    tokens = {
        Role.OPERATOR: user_token(url, Role.OPERATOR),
        Role.RECORDS_STAFF: user_token(url, Role.RECORDS_STAFF),
        Role.CENTRE_STAFF: user_token(url, Role.CENTRE_STAFF, centre=CENTRE),
        Role.VENUE_MANAGER: user_token(url, Role.VENUE_MANAGER, unit=UNIT),
        Role.UNIT_CONTACT: user_token(url, Role.UNIT_CONTACT, unit=UNIT),
        Role.VIEWER: user_token(url, Role.VIEWER),
    }
    feed = LiveFeed(keepalive_s=0.2)
    app = create_app(settings, live=feed)
    api = ApiServer(app, anonymous=True)
    yield Secured(app, api, feed, tokens)
    _stop(app, api)
