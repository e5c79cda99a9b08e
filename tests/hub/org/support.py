"""A small city built record by record, for the records tests."""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from demo.broker.mosquitto import MosquittoBroker
from edge.agent import EdgeAgent
from edge.config import EdgeSettings
from firmware_sim.card_reader import CardReaderSim
from hub.ingest.events import EventRecord
from hub.org.calendar import month_of
from hub.org.models import (
    Activity,
    Alliance,
    Community,
    Member,
    Registration,
    ServiceCentre,
    Subdistrict,
    Unit,
)
from mqtt_contract import topics
from mqtt_contract.credentials import card_hash
from mqtt_contract.models import CheckinData, CheckinEvent, parse_event
from mqtt_contract.topics import EventKind
from tests.hub.support import CARD_KEY, CARD_KEYS, wait_until
from tests.services import ACCOUNTS

BOOT = uuid.UUID("00000000-0000-4000-8000-0000000000c3")


def hashed(card: str) -> str:
    return card_hash(CARD_KEY, card)


class City:
    """Records added one by one and committed at once; ids come back for the assertions."""

    def __init__(self, engine: Engine) -> None:
        self.session = Session(engine, expire_on_commit=False)
        self._codes = itertools.count(1)
        self.subdistrict = self.add(Subdistrict(code="SD01", name="轩岗街道"))
        self.community = self.add_community("C01", "新原社区")
        self.centre = self.add_centre("centre-01", self.community)
        self.alliance = self.add(Alliance(code="A01", name="城区党建联盟"))

    def add(self, row: Any) -> Any:
        self.session.add(row)
        self.session.flush()
        return row

    def add_community(self, code: str, name: str) -> Community:
        row: Community = self.add(
            Community(code=code, name=name, subdistrict_id=self.subdistrict.id)
        )
        return row

    def add_centre(self, site: str, community: Community) -> ServiceCentre:
        centre: ServiceCentre = self.add(
            ServiceCentre(id=site, name=f"{community.name}党群服务中心", community_id=community.id)
        )
        community.centre_id = centre.id
        return centre

    def add_unit(self, code: str, *, alliance: Alliance | None = None) -> Unit:
        unit: Unit = self.add(
            Unit(
                code=code,
                name=f"单位{code}",
                kind="agency",
                alliance_id=(alliance or self.alliance).id,
            )
        )
        return unit

    def add_member(
        self,
        unit: Unit,
        *,
        card: str | None = None,
        registered_on: date | None = None,
        community: Community | None = None,
        name: str = "王晓东",
    ) -> Member:
        home = community or self.community
        member: Member = self.add(
            Member(
                code=f"M{next(self._codes):05d}",
                name=name,
                unit_id=unit.id,
                community_id=home.id,
                card_hash=hashed(card) if card else None,
                card_sealed=CARD_KEYS.seal(card) if card else None,  # the card vault
                in_service=True,
            )
        )
        if registered_on is not None:
            self.add(
                Registration(community_id=home.id, member_id=member.id, registered_on=registered_on)
            )
        return member

    def add_activity(
        self,
        starts_at: datetime,
        hours: float = 2,
        *,
        kind: str = "themed_activity",
        theme: str = "学习党章",
        centre: ServiceCentre | None = None,
        community: Community | None = None,
    ) -> Activity:
        activity: Activity = self.add(
            Activity(
                centre_id=(centre or self.centre).id,
                community_id=(community or self.community).id,
                title=f"{theme}活动",
                theme=theme,
                month=month_of(starts_at),
                kind=kind,
                eight_into="policy" if kind == "eight_into" else None,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=hours),
            )
        )
        return activity

    def commit(self) -> None:
        self.session.commit()

    def close(self) -> None:
        self.session.close()


_seqs = itertools.count(1)


def tap(
    card: str,
    at: datetime,
    *,
    site: str = "centre-01",
    device: str = "reader-1",
    event_id: uuid.UUID | None = None,
) -> EventRecord:
    """A check-in as the ingest pipeline hands it to the store."""
    event = CheckinEvent(
        id=event_id or uuid.uuid4(),
        site=site,
        device=device,
        boot=BOOT,
        seq=next(_seqs),
        ts=at,
        data=CheckinData(card_hash=hashed(card), decision="allowed", allowlist_version=1),
    )
    return EventRecord(
        event=event,
        received_at=datetime.now(UTC),
        topic=topics.event(site, device, EventKind.CHECKIN),
        payload=event.to_bytes(),
    )


class Centre:
    """An edge agent with a simulated card reader behind a pty, as at a service centre."""

    def __init__(
        self, tmp_path: Path, broker: MosquittoBroker, *, mqtt: dict[str, Any] | None = None
    ) -> None:
        """``mqtt`` replaces the edge's broker settings (default: the broker's plain URL)."""
        self.link = tmp_path / "reader-1.tty"
        self.outbox = tmp_path / "outbox.db"
        self.sim = CardReaderSim(self.link)
        self.settings = EdgeSettings(
            site="centre-01",
            outbox_path=self.outbox,
            site_card_key=CARD_KEYS.site_key("centre-01"),
            hub_card_public_key=CARD_KEYS.public_key,
            heartbeat_interval_s=1.0,
            mqtt=mqtt or {"url": broker.url, "password": ACCOUNTS.edge("centre-01")[1]},
            devices=[{"id": "reader-1", "port": str(self.link)}],
        )
        self.agent = self.start()

    def start(self) -> EdgeAgent:
        agent = EdgeAgent(self.settings)
        agent.start()
        wait_until(lambda: agent.readers[0].health().state == "ok", what="the reader to open")
        return agent

    def restart(self) -> None:
        self.agent.stop()
        self.agent = self.start()

    def taps(self) -> list[CheckinEvent]:
        with closing(sqlite3.connect(self.outbox)) as conn:
            payloads = [row[0] for row in conn.execute("SELECT payload FROM outbox ORDER BY seq")]
        return [e for e in map(parse_event, payloads) if isinstance(e, CheckinEvent)]

    def tap(self, card: str) -> CheckinEvent:
        # A card is a new tap only once the last one has been off the reader for a while.
        wait_until(self._reader_idle, what="the last card to leave the reader")
        before = len(self.taps())
        self.sim.tap(card, hold_s=0.2)
        wait_until(lambda: len(self.taps()) > before, what=f"the tap of {card}")
        return self.taps()[-1]

    def _reader_idle(self) -> bool:
        last = self.agent.readers[0].health().last_frame_at
        return last is None or datetime.now(UTC) - last > timedelta(seconds=0.5)

    def close(self) -> None:
        self.agent.stop()
        self.sim.close()
