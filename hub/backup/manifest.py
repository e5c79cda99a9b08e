"""What a backup says about itself: read before anything is restored, checked against the data."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

FORMAT = 1
MAX_MANIFEST_BYTES = 1 << 20
KINDS = ("postgresql", "sqlite")
DATA_MEMBER = {"postgresql": "hub.pgdump", "sqlite": "hub.sqlite3"}
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class BackupError(Exception):
    """A backup that cannot be made, read or restored; the message says why, for an operator."""


@dataclass(frozen=True)
class Manifest:
    hub_version: str
    alembic_revision: str
    created_at: str  # ISO 8601, UTC
    database: str  # one of KINDS
    data_member: str
    data_bytes: int
    data_sha256: str
    tables: dict[str, int] = field(default_factory=dict)
    server_version: str | None = None  # PostgreSQL's, for pg_restore's version check
    dump_tool_version: str | None = None  # the pg_dump that made the archive
    format: int = FORMAT

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode() + b"\n"

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def describe(self) -> str:
        return (
            f"{self.database} backup of {self.created_at}, hub {self.hub_version}, "
            f"schema revision {self.alembic_revision}: {len(self.tables)} tables, "
            f"{self.rows} rows, {self.data_bytes} bytes of data"
        )

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        """Parse and bound a manifest; ``BackupError`` on anything unexpected."""
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BackupError(f"the manifest is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise BackupError("the manifest is not a JSON object")
        if data.get("format") != FORMAT:
            raise BackupError(
                f"backup format {data.get('format')!r} is not {FORMAT}: made by another version"
            )
        try:
            manifest = cls(**data)
        except TypeError as exc:
            raise BackupError(f"the manifest's fields are not a backup's: {exc}") from None
        manifest._validate()
        return manifest

    def _validate(self) -> None:
        problems = []
        text_fields: dict[str, Any] = {
            "hub_version": self.hub_version,
            "alembic_revision": self.alembic_revision,
            "created_at": self.created_at,
        }
        for name, value in text_fields.items():
            if not isinstance(value, str) or not 0 < len(value) <= 64:
                problems.append(f"{name} {value!r}")
        if self.database not in KINDS:
            problems.append(f"database {self.database!r}")
        elif self.data_member != DATA_MEMBER[self.database]:
            problems.append(f"data_member {self.data_member!r}")
        if not isinstance(self.data_bytes, int) or self.data_bytes < 0:
            problems.append(f"data_bytes {self.data_bytes!r}")
        if not isinstance(self.data_sha256, str) or not _SHA256.fullmatch(self.data_sha256):
            problems.append("data_sha256")
        if not isinstance(self.tables, dict) or not all(
            isinstance(k, str) and _NAME.fullmatch(k) and isinstance(v, int) and v >= 0
            for k, v in self.tables.items()
        ):
            problems.append("tables")
        for name in ("server_version", "dump_tool_version"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or len(value) > 200):
                problems.append(name)
        if problems:
            raise BackupError(f"the manifest has invalid fields: {', '.join(problems)}")
