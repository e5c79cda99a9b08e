"""Retention of the dead letters: a message that did not validate is kept, raw, for ``days`` so
an operator can see what a broken edge sent; its payload may carry a card's hash."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from sqlalchemy import Table

from hub.core.retention import Kind, older_than
from hub.ingest.models import DeadLetter


def dead_letter_kind(days: int) -> Kind:
    table = cast(Table, DeadLetter.__table__)

    return Kind(
        name="dead_letters",
        table=table,
        time=table.c.received_at,
        cutoff=older_than(timedelta(days=days)),
        setting="HUB_RETAIN_DEAD_LETTERS_DAYS",
    )
