"""The bounds of every number, id, time and month the API takes, defined once.

Each bound is in the OpenAPI schema (``minimum``/``maximum``, a ``pattern``), so a client can
see it, and a value past it is 422 naming the parameter before it reaches a query: an offset
past 2^63 - 1, a 23-digit id or a date in year 1 or 9999 used to overflow the database driver or
Python's ``datetime`` (500). Times and dates are ISO 8601 text only: a number is not taken for a
Unix time (``until=0.5`` was read as 1970).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from annotated_types import Ge, Le
from fastapi import Query
from pydantic import BeforeValidator, PlainSerializer, PlainValidator, WithJsonSchema

MAX_ID = 2**31 - 1
"""The largest record id: the keys are INTEGER columns, 32 bits on PostgreSQL."""
MAX_OFFSET = 2**53 - 1
"""The largest offset: PostgreSQL's OFFSET is 64 bits, but no page is that deep, and this is the
largest integer a JSON number carries exactly (to JavaScript, the dashboard's language, and to
the float in which FastAPI's OpenAPI models write a bound)."""
MAX_LIMIT = 1000
FIRST_YEAR, LAST_YEAR = 2000, 2099
"""Times, dates and months the API takes (a record outside them is a typing mistake)."""

_YEAR = r"20\d{2}"
_DATE = rf"{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
TIME_PATTERN = (
    rf"^{_DATE}T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{{1,6}})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)
DATE_PATTERN = rf"^{_DATE}$"
MONTH_PATTERN = rf"^{_YEAR}-(0[1-9]|1[0-2])$"
_TIME = re.compile(TIME_PATTERN)
_DATE_ONLY = re.compile(DATE_PATTERN)
_SPACED_OFFSET = re.compile(r"(\d) (\d{2}:\d{2})$")
_YEARS = f"years {FIRST_YEAR} to {LAST_YEAR}"


def _iso_time(value: Any) -> datetime:
    """ISO 8601 with seconds and an offset, in the years taken; normalised to UTC."""
    if isinstance(value, datetime) and value.tzinfo is not None:  # from Python, not a request
        return value.astimezone(UTC)
    if isinstance(value, str):
        # an unencoded '+08:00' in a URL arrives as ' 08:00': read it as the offset it was
        value = _SPACED_OFFSET.sub(r"\1+\2", value)
        if _TIME.match(value):
            try:
                return datetime.fromisoformat(value).astimezone(UTC)
            except ValueError as exc:  # 2026-02-30
                raise ValueError(f"not a date and time: {exc}") from None
    raise ValueError(
        f"an ISO 8601 date and time with seconds and an offset, {_YEARS}, "
        "e.g. 2026-11-27T08:30:00+08:00"
    )


def _iso_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE_ONLY.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"not a date: {exc}") from None
    raise ValueError(f"an ISO 8601 date (YYYY-MM-DD), {_YEARS}")


Time = Annotated[
    datetime,
    PlainValidator(_iso_time),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": TIME_PATTERN,
            "description": f"ISO 8601 with seconds and an offset, {_YEARS}",
        }
    ),
]
"""A time the API takes (query or body), as an aware UTC ``datetime``."""

Day = Annotated[
    date,
    PlainValidator(_iso_date),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "pattern": DATE_PATTERN,
            "description": f"YYYY-MM-DD, {_YEARS}",
        }
    ),
]

LocalTime = Annotated[
    time,
    PlainSerializer(lambda t: t.strftime("%H:%M:%S"), return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$",
            "examples": ["07:00:00"],
        }
    ),
]
"""A wall-clock time of day with no offset (a venue's opening hours, in Asia/Shanghai): JSON
Schema's ``format: time`` wants an offset, so the schema gives the pattern instead."""

WALL_TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$"
_WALL_TIME = re.compile(WALL_TIME_PATTERN)


def _wall_time(value: Any) -> time:
    if isinstance(value, time) and value.tzinfo is None:  # from Python, not a request
        return value
    if isinstance(value, str) and _WALL_TIME.match(value):
        return time.fromisoformat(value)
    raise ValueError("a time of day, HH:MM or HH:MM:SS, with no offset, e.g. 07:30")


LocalTimeIn = Annotated[
    time,
    PlainValidator(_wall_time),
    WithJsonSchema(
        {"type": "string", "pattern": WALL_TIME_PATTERN, "examples": ["07:00", "21:30:00"]}
    ),
]
"""A wall-clock time of day the API takes (a venue's opening hours): HH:MM or HH:MM:SS, no
offset, no number of seconds."""

RecordId = Annotated[int, Ge(1), Le(MAX_ID)]
"""A record's id in a path or a query: the keys start at 1."""


def _json_integer(value: Any) -> Any:
    """A JSON integer (``12``, or ``12.0``, which JSON Schema counts as one), not ``"12"`` or
    ``true`` (pydantic would take both)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON integer")
    return value


BodyId = Annotated[int, Ge(1), Le(MAX_ID), BeforeValidator(_json_integer)]
"""A record's id in a JSON body."""

BodyInt = Annotated[int, BeforeValidator(_json_integer)]
"""A whole number in a JSON body (bound it where it is used: ``Field(ge=..., le=...)``)."""

IdQuery = Annotated[RecordId | None, Query(examples=[3])]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip, for paging")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"rows per page, at most {MAX_LIMIT}")]
Month = Annotated[str, Query(pattern=MONTH_PATTERN, examples=["2026-11"], description="YYYY-MM")]
