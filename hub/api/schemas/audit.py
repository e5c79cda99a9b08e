"""The audit log, as stored: secrets were redacted when the row was written."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from hub.api.schemas import FROM_ROWS

AuditAction = Literal["create", "update", "archive", "restore", "delete", "export"]
"""``hub.audit.models.AUDIT_ACTIONS``"""
AuditSource = Literal["api", "cli", "import", "system"]
"""``hub.audit.models.AUDIT_SOURCES``"""


class AuditEntryOut(BaseModel):
    model_config = FROM_ROWS

    id: int = Field(examples=[1042])
    at: datetime = Field(examples=["2026-11-27T08:30:00Z"])
    actor: str = Field(examples=["wang.li"], description="a user's name, or `system`")
    source: AuditSource = Field(examples=["api"])
    request_id: str | None = Field(examples=["5f0c9b1e2d7a4c3b8e6f1a2b3c4d5e6f"])
    request: str | None = Field(
        examples=["PATCH /api/v1/venue-registry/venue-07"],
        description="the request or the command line the change came from",
    )
    action: AuditAction = Field(examples=["update"])
    table_name: str = Field(examples=["venues"], description="the table, or what was exported")
    row_id: str = Field(examples=["venue-07"], description="its primary key (parts joined by /)")
    before: dict[str, Any] | None = Field(
        examples=[{"capacity": 120}], description="the changed columns before (all on delete)"
    )
    after: dict[str, Any] | None = Field(
        examples=[{"capacity": 150}],
        description="the changed columns after (all on create; an export's filters)",
    )
