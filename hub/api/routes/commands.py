"""Commands to edges: send one, list them with their state, look at one (docs/commands.md)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, status
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.api.auth import forbidden, require
from hub.api.crud import found
from hub.api.deps import LimitQuery, OffsetQuery, SessionDep
from hub.api.errors import AUTHENTICATED, refusals
from hub.api.filters import SiteQuery
from hub.api.schemas import Page
from hub.api.schemas.commands import CommandIn, CommandOut
from hub.api.scope import ensure_site, site_conditions
from hub.auth import Permission, Principal
from hub.commands.models import EdgeCommand
from hub.commands.service import CommandError, create_command
from hub.ingest.models import Site
from hub.org.models import ServiceCentre
from hub.sites.models import SiteAccount
from hub.venues.models import Venue
from mqtt_contract.commands import CommandState, Operation

router = APIRouter(tags=["sites"], responses=AUTHENTICATED)

CommandsReader = Annotated[Principal, Depends(require(Permission.COMMANDS_READ))]
# every sender may send `alert`; the other operations need commands.send (checked in the route)
CommandsSender = Annotated[Principal, Depends(require(Permission.COMMANDS_ALERT))]


@router.post(
    "/commands",
    response_model=CommandOut,
    status_code=status.HTTP_201_CREATED,
    responses=refusals(400, 404),
)
def send_command(session: SessionDep, principal: CommandsSender, body: CommandIn) -> CommandOut:
    """Queue a command for an edge; the hub sends it and records the edge's answer."""
    if body.op is not Operation.ALERT and not principal.can(Permission.COMMANDS_SEND):
        raise forbidden(f"{body.op} needs {Permission.COMMANDS_SEND}; this role may send alert")
    ensure_site(principal, body.site)
    _check_site(session, body.site)
    try:
        command = create_command(
            session,
            site=body.site,
            op=body.op,
            args=body.args,
            deadline_s=body.deadline_s,
            requested_by=principal.username,
        )
    except CommandError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    session.commit()
    return CommandOut.model_validate(command)


@router.get("/commands", response_model=Page[CommandOut])
def list_commands(  # noqa: PLR0917 - FastAPI passes every query parameter by keyword
    session: SessionDep,
    principal: CommandsReader,
    site: SiteQuery = None,
    state: Annotated[CommandState | None, Query()] = None,
    op: Annotated[Operation | None, Query()] = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 100,
) -> Page[CommandOut]:
    """Commands, newest first; a centre's staff see their centre's, a venue manager its venues'."""
    where = site_conditions(principal, EdgeCommand.site_id, site)
    if state is not None:
        where.append(EdgeCommand.state == state)
    if op is not None:
        where.append(EdgeCommand.op == op.value)
    count = session.scalar(select(func.count()).select_from(EdgeCommand).where(*where)) or 0
    rows = session.scalars(
        select(EdgeCommand)
        .where(*where)
        .order_by(EdgeCommand.created_at.desc(), EdgeCommand.id)
        .offset(offset)
        .limit(limit)
    )
    return Page(data=[CommandOut.model_validate(r) for r in rows], count=count)


@router.get("/commands/{command_id}", response_model=CommandOut, responses=refusals(404))
def get_command(session: SessionDep, principal: CommandsReader, command_id: UUID) -> CommandOut:
    command = found(session, EdgeCommand, command_id, "command")
    ensure_site(principal, command.site_id)
    return CommandOut.model_validate(command)


def _check_site(session: Session, site: str) -> None:
    """404 unless ``site`` is a site the hub knows: registered, seen, or a centre's or venue's
    id (an edge's site id); 422 for a revoked one."""
    account = session.get(SiteAccount, site)
    if account is not None and account.state == "revoked":
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"site: {site} is revoked")
    if account is None and not any(
        session.get(model, site) is not None for model in (Site, ServiceCentre, Venue)
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no site {site}")
