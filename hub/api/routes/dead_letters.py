"""Messages that did not validate, newest first, with their raw bytes."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Depends
from sqlalchemy import func, select

from hub.api.auth import require
from hub.api.deps import LimitQuery, OffsetQuery, SessionDep
from hub.api.errors import AUTHENTICATED
from hub.api.schemas import Page
from hub.api.schemas.dead_letters import DeadLetterOut
from hub.auth import Permission
from hub.ingest.models import DeadLetter

router = APIRouter(tags=["records"], responses=AUTHENTICATED)

PREVIEW_CHARS = 200


@router.get(
    "/dead-letters",
    response_model=Page[DeadLetterOut],
    dependencies=[Depends(require(Permission.DEAD_LETTERS_READ))],
)
def list_dead_letters(
    session: SessionDep, offset: OffsetQuery = 0, limit: LimitQuery = 100
) -> Page[DeadLetterOut]:
    count = session.scalar(select(func.count()).select_from(DeadLetter)) or 0
    rows = session.scalars(
        select(DeadLetter).order_by(DeadLetter.id.desc()).offset(offset).limit(limit)
    )
    return Page(data=[_out(row) for row in rows], count=count)


def _out(row: DeadLetter) -> DeadLetterOut:
    payload = bytes(row.payload)
    return DeadLetterOut(
        id=row.id,
        received_at=row.received_at,
        topic=row.topic,
        size=row.size,
        truncated=row.size > len(payload),
        reason_kind=row.reason_kind,
        reason=row.reason,
        payload_base64=base64.b64encode(payload).decode("ascii"),
        preview=payload[: PREVIEW_CHARS * 4].decode("utf-8", errors="replace")[:PREVIEW_CHARS],
    )
