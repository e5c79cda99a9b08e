"""The organisation's own rules for a registry write, whoever makes it (the API, an import):
grids on three levels, party organisations on five, an alliance's chairs one at a time, an
agreement's menu and a volunteer team's members replaced as a whole.

The rules read the row as it would be written (a new row not yet added, or a changed one before
its flush) and raise :class:`RegistryError` naming the field at fault; the API turns that into
its validation shape. Whether a referred row exists or is archived is checked before these run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.org.calendar import local_date_of
from hub.org.models import (
    PARTY_ORG_KINDS,
    AllianceChair,
    Grid,
    PartyOrg,
    ServiceMenuItem,
    Unit,
    VolunteerTeamMember,
)

GRID_LEVELS = (1, 2, 3)


class RegistryError(ValueError):
    """A write the organisation's rules refuse: ``field`` is at fault; ``kind`` says how
    (``range``: not a value the rule allows; ``overlap``: clashes with another row)."""

    def __init__(self, field: str, message: str, kind: str = "range") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.kind = kind


def check_grid(session: Session, grid: Grid) -> None:
    """Level 1 (the community itself) has no parent; a level 2 or 3 grid's parent is one level
    up in the same community; a grid with sub-grids keeps its level and community."""
    if grid.level == 1:
        if grid.parent_id is not None:
            raise RegistryError("parent_id", "a level 1 grid has no parent")
    else:
        parent = session.get(Grid, grid.parent_id) if grid.parent_id is not None else None
        if parent is None:
            raise RegistryError("parent_id", f"a level {grid.level} grid needs its parent grid")
        if parent.level != grid.level - 1:
            raise RegistryError(
                "parent_id",
                f"grid {parent.id} is on level {parent.level}, not {grid.level - 1}",
            )
        if parent.community_id != grid.community_id:
            raise RegistryError(
                "parent_id", f"grid {parent.id} is not in community {grid.community_id}"
            )
    if grid.id is not None:
        for child in session.scalars(select(Grid).where(Grid.parent_id == grid.id)):
            if child.level != grid.level + 1:
                raise RegistryError("level", f"grid {child.id} below it is on level {child.level}")
            if child.community_id != grid.community_id:
                raise RegistryError(
                    "community_id", f"grid {child.id} below it is in community {child.community_id}"
                )


def check_party_org(session: Session, org: PartyOrg) -> None:
    """A working committee is the top and has no parent; each other kind's parent is of the
    kind one level up; an organisation with others below it keeps its kind."""
    level = PARTY_ORG_KINDS.index(org.kind)
    if level == 0:
        if org.parent_id is not None:
            raise RegistryError("parent_id", "a working committee has no parent")
    else:
        above = PARTY_ORG_KINDS[level - 1]
        parent = session.get(PartyOrg, org.parent_id) if org.parent_id is not None else None
        if parent is None:
            raise RegistryError("parent_id", f"a {org.kind} needs its parent, a {above}")
        if parent.kind != above:
            raise RegistryError(
                "parent_id", f"party organisation {parent.id} is a {parent.kind}, not a {above}"
            )
    if org.id is not None and level + 1 < len(PARTY_ORG_KINDS):
        below = PARTY_ORG_KINDS[level + 1]
        child = session.scalar(
            select(PartyOrg).where(PartyOrg.parent_id == org.id, PartyOrg.kind != below).limit(1)
        )
        if child is not None:
            raise RegistryError("kind", f"party organisation {child.id} below it is a {child.kind}")
    elif org.id is not None:
        child = session.scalar(select(PartyOrg).where(PartyOrg.parent_id == org.id).limit(1))
        if child is not None:
            raise RegistryError("kind", f"party organisation {child.id} is below it")


def check_period(starts_on: date, ends_on: date | None, field: str = "ends_on") -> None:
    """A period ends on or after the day it starts (``None``: open-ended)."""
    if ends_on is not None and ends_on < starts_on:
        raise RegistryError(field, f"{ends_on} is before {starts_on}")


def check_chair(session: Session, chair: AllianceChair) -> None:
    """A chair is one of the alliance's units; one alliance has one chair at a time: its
    periods (both days included) do not overlap."""
    check_period(chair.starts_on, chair.ends_on)
    unit = session.get(Unit, chair.unit_id)
    if unit is not None and unit.alliance_id != chair.alliance_id:
        raise RegistryError("unit_id", f"unit {unit.id} is not in alliance {chair.alliance_id}")
    clash = session.scalar(
        select(AllianceChair)
        .where(
            AllianceChair.alliance_id == chair.alliance_id,
            AllianceChair.starts_on <= chair.ends_on,
            AllianceChair.ends_on >= chair.starts_on,
            *([AllianceChair.id != chair.id] if chair.id is not None else []),
        )
        .limit(1)
    )
    if clash is not None:
        raise RegistryError(
            "starts_on",
            f"the period overlaps chair {clash.id} ({clash.starts_on} to {clash.ends_on})",
            "overlap",
        )


def replace_menu(session: Session, agreement_id: int, items: Iterable[tuple[str, str]]) -> None:
    """Make the agreement's menu ``items`` (direction, title): lines already there stay as they
    are, the others are deleted or added, so the audit log shows only what changed."""
    wanted = Counter(items)
    current = session.scalars(
        select(ServiceMenuItem)
        .where(ServiceMenuItem.agreement_id == agreement_id)
        .order_by(ServiceMenuItem.id)
    )
    for item in current:
        key = (item.direction, item.title)
        if wanted[key] > 0:
            wanted[key] -= 1
        else:
            session.delete(item)
    for (direction, title), count in wanted.items():
        for _ in range(count):
            session.add(
                ServiceMenuItem(agreement_id=agreement_id, direction=direction, title=title)
            )


def team_members(session: Session, team_id: int) -> Sequence[VolunteerTeamMember]:
    return session.scalars(
        select(VolunteerTeamMember)
        .where(VolunteerTeamMember.team_id == team_id)
        .order_by(VolunteerTeamMember.member_id)
    ).all()


def replace_team_members(session: Session, team_id: int, member_ids: Iterable[int]) -> None:
    """Make the team's members ``member_ids``: those who stay keep the day they joined, those
    added joined today (in the city's calendar)."""
    wanted = set(member_ids)
    for row in team_members(session, team_id):
        if row.member_id in wanted:
            wanted.discard(row.member_id)
        else:
            session.delete(row)
    today = local_date_of(datetime.now(UTC))
    for member_id in sorted(wanted):
        session.add(VolunteerTeamMember(team_id=team_id, member_id=member_id, joined_on=today))
