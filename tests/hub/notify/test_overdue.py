"""An overdue service request escalates and notifies: the escalation job as the hub runs it
(``build_ingest``) hands the request to the notifier (``hub.notify.requests``), which sends one
message to the staff of the centre that serves the request's community, and none to another
centre's staff; a second run escalates nothing again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from demo.seed import seed_city
from hub.auth import Role
from hub.composition import build_ingest
from hub.core.settings import HubSettings
from hub.org import requests as flow
from hub.org.models import Community
from tests.hub.notify.receivers import Robots, start_robots
from tests.hub.notify.support import subscriber
from tests.hub.org.test_seed import SMALL
from tests.hub.support import CARD_KEY, wait_until


@pytest.fixture
def robots() -> Iterator[Robots]:
    r = start_robots()
    yield r
    r.close()


def test_an_overdue_request_notifies_the_centre_that_serves_its_community_once(
    engine: Engine, db_settings: HubSettings, robots: Robots
) -> None:
    seed_city(engine, seed=5, key=CARD_KEY, year=2025, scale=SMALL)
    with Session(engine) as s:
        community = s.scalars(
            select(Community.id).where(Community.centre_id == "centre-01").order_by(Community.id)
        ).first()
        assert community is not None
        long_ago = datetime.now(UTC) - timedelta(days=30)
        overdue = flow.raise_request(
            s,
            community_id=community,
            summary="消防通道堵塞",
            category="安全隐患",
            actor="zx",
            now=long_ago,
        )
        s.commit()
        request_id = overdue.id
    ours = f"{robots.url}/wecom?key=centre-01"
    theirs = f"{robots.url}/wecom?key=centre-02"
    subscriber(engine, Role.CENTRE_STAFF, [("wecom", ours, None)], centre="centre-01")
    subscriber(engine, Role.CENTRE_STAFF, [("wecom", theirs, None)], centre="centre-02")

    settings = db_settings.model_copy(
        update={"notify_webhook_hosts": "127.0.0.1", "notify_poll_s": 0.05}
    )
    ingest = build_ingest(settings)
    notifier = ingest.notifier
    assert notifier is not None
    try:
        escalated = [e.request_id for e in ingest.escalation.run_once()]
        assert request_id in escalated

        def sent_to(key: str) -> list[str]:
            """The messages about our request (the seeded city has overdue requests too)."""
            texts = [
                r.body["markdown"]["content"] if "markdown" in r.body else r.body["text"]["content"]
                for r in robots.at("/wecom")
                if r.query.get("key") == key
            ]
            return [t for t in texts if f"第 {request_id} 号" in t]

        wait_until(lambda: (notifier.turn(), sent_to("centre-01"))[1], 10, "the message")
        (message,) = sent_to("centre-01")
        assert "消防通道堵塞" not in message, "the resident's matter stays in the hub"

        assert request_id not in [e.request_id for e in ingest.escalation.run_once()]
        notifier.turn()
        notifier.turn()
        assert len(sent_to("centre-01")) == 1
        assert sent_to("centre-02") == []
    finally:
        ingest.worker.engine.dispose()
