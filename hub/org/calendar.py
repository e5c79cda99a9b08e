"""The city's calendar: years, months and days are counted in Asia/Shanghai.

A tap at 23:30 UTC on 31 December is already 1 January in Yuanping, and counts toward the new
year. Python uses ``zoneinfo``; SQL uses the same zone on PostgreSQL and a fixed +08:00 on SQLite,
which has no time zones (China has kept +08:00 without daylight saving since 1991).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from mqtt_contract.city import CITY_TZ

# CITY_TZ is the contract's (the simulators use it too); the hub takes it from here.
__all__ = [
    "CITY_TZ",
    "local_date",
    "local_date_of",
    "local_month",
    "month_of",
    "months_of",
    "year_bounds",
]


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The year's first instant and the next year's first instant, both in UTC."""
    start = datetime(year, 1, 1, tzinfo=CITY_TZ).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=CITY_TZ).astimezone(UTC)
    return start, end


def local_date_of(at: datetime) -> date:
    return at.astimezone(CITY_TZ).date()


def month_of(at: datetime) -> str:
    """``YYYY-MM`` of an instant in the city."""
    return at.astimezone(CITY_TZ).strftime("%Y-%m")


def months_of(year: int) -> list[str]:
    return [f"{year:04d}-{m:02d}" for m in range(1, 13)]


class local_date(FunctionElement[date]):  # noqa: N801 - reads as the SQL function it is
    """SQL: the city's calendar date of a stored UTC datetime."""

    type = Date()
    name = "local_date"
    inherit_cache = True


class local_month(FunctionElement[str]):  # noqa: N801 - reads as the SQL function it is
    """SQL: ``YYYY-MM`` of a stored UTC datetime, in the city."""

    type = String(7)
    name = "local_month"
    inherit_cache = True


def _argument(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return str(compiler.process(column, **kw))


@compiles(local_date, "sqlite")
def _local_date_sqlite(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({_argument(element, compiler, **kw)}, '+8 hours')"


@compiles(local_date, "postgresql")
def _local_date_postgresql(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({_argument(element, compiler, **kw)} AT TIME ZONE '{CITY_TZ.key}') AS DATE)"


@compiles(local_month, "sqlite")
def _local_month_sqlite(element: local_month, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strftime('%Y-%m', {_argument(element, compiler, **kw)}, '+8 hours')"


@compiles(local_month, "postgresql")
def _local_month_postgresql(element: local_month, compiler: SQLCompiler, **kw: Any) -> str:
    column = _argument(element, compiler, **kw)
    return f"to_char({column} AT TIME ZONE '{CITY_TZ.key}', 'YYYY-MM')"
