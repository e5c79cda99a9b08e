"""Commands sent to edges, each with its state and outcome (``mqtt_contract.commands``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.core.base import ID_LENGTH, NAME_LENGTH, Base, one_of

COMMAND_STATES = ("queued", "sent", "done", "failed", "expired")


class EdgeCommand(Base):
    __tablename__ = "edge_commands"
    __table_args__ = (
        CheckConstraint(one_of("state", COMMAND_STATES), name="state"),
        Index("ix_edge_commands_site_created", "site_id", "created_at"),
        Index("ix_edge_commands_state_deadline", "state", "deadline"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    op: Mapped[str] = mapped_column(String(32))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(8), default="queued")
    reason: Mapped[str | None] = mapped_column(Text, doc="why it failed or expired")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    requested_by: Mapped[str | None] = mapped_column(String(NAME_LENGTH), doc="user name")
    attempts: Mapped[int] = mapped_column(Integer, default=0, doc="times published")
    created_at: Mapped[datetime]
    deadline: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(doc="when the broker last took it")
    finished_at: Mapped[datetime | None] = mapped_column(doc="done, failed or expired at")
