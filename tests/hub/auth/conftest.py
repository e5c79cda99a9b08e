"""A seeded city (SQLite and PostgreSQL) served with no default credentials, users of each role,
gate readings at venues of two owner units."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from hub.api import create_app
from hub.auth import Role
from hub.core.settings import HubSettings
from hub.ingest.decode import decode
from hub.ingest.records import InboundMessage
from hub.ingest.store import RecordStore
from hub.live import LiveFeed
from hub.org.seed import seed_city
from mqtt_contract import topics
from mqtt_contract.models import CounterData, CounterEvent
from tests.hub.auth.support import CENTRE, OTHER_VENUE, UNIT, UNIT_VENUES, YEAR, Secured
from tests.hub.org.test_seed import SMALL
from tests.hub.support import CARD_KEY, ApiServer
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
    return InboundMessage(
        topic=topics.event(site, "gate-1", topics.EventKind.COUNTER),
        payload=event.to_bytes(),
        mid=1,
        qos=1,
        retained=False,
        received_at=datetime.now(UTC),
        generation=1,
    )


@pytest.fixture
def secured(db_settings: HubSettings, engine: Engine) -> Iterator[Secured]:
    seed_city(engine, seed=5, key=CARD_KEY, year=YEAR, scale=SMALL)
    readings = [_gate_reading(site, n) for n, site in enumerate([*UNIT_VENUES, OTHER_VENUE], 1)]
    RecordStore(engine).write([decode(m) for m in readings])
    settings = db_settings.model_copy(update={"card_key": SecretStr(CARD_KEY.decode())})
    url = settings.database_url
    tokens = {
        Role.OPERATOR: user_token(url, Role.OPERATOR),
        Role.RECORDS_STAFF: user_token(url, Role.RECORDS_STAFF),
        Role.CENTRE_STAFF: user_token(url, Role.CENTRE_STAFF, centre=CENTRE),
        Role.VENUE_MANAGER: user_token(url, Role.VENUE_MANAGER, unit=UNIT),
        Role.VIEWER: user_token(url, Role.VIEWER),
    }
    feed = LiveFeed(keepalive_s=0.2)
    app = create_app(settings, live=feed)
    api = ApiServer(app, anonymous=True)
    yield Secured(app, api, feed, tokens)
    _stop(app, api)
