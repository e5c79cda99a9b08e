"""A small city built record by record, for the records tests."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

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
from mqtt_contract.models import CheckinData, CheckinEvent
from mqtt_contract.topics import EventKind
from tests.hub.support import CARD_KEY, CARD_KEYS

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
