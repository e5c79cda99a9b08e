"""The columns of the roster files and how each cell is read; a bad cell raises ``ValueError``
with the reason a person can act on."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from hub.org.models import CODE_LENGTH, PARTY_ORG_KINDS, TEAM_KINDS, UNIT_KINDS
from hub.org.names import check_name, check_title
from hub.venues.models import VENUE_KINDS
from mqtt_contract.credentials import normalise_card
from mqtt_contract.topics import ID_PATTERN

_CODE = re.compile(rf"^[A-Za-z0-9_-]{{1,{CODE_LENGTH}}}$")
_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_LIST_SEPARATORS = re.compile(r"[;；、]")
_SITE = re.compile(ID_PATTERN)
_TIME = re.compile(r"^([01]?\d|2[0-3])[:：]([0-5]\d)(?::([0-5]\d))?$")
_NUMBER = re.compile(r"^-?\d{1,7}(\.\d{1,17})?$")
FIRST_YEAR, LAST_YEAR = 2000, 2099
"""The years a date may have, as the API's (``hub.api.params``): outside them, a typing mistake."""
MAX_CAPACITY = 1_000_000
CLOSED = "休息"
"""A weekday's cell for a venue closed all that day."""
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

UNIT_KIND_ALIASES = {
    "机关": "agency",
    "企业": "enterprise",
    "事业单位": "institution",
    "两新组织": "two_new",
    "其他": "other",
}
PARTY_ORG_KIND_ALIASES = dict(
    zip(
        ("街道党工委", "社区党委", "网格党支部", "楼宇党小组", "党员家庭联组"),
        PARTY_ORG_KINDS,
        strict=True,
    )
)
TEAM_KIND_ALIASES = dict(zip(("服务站", "联盟", "小组"), TEAM_KINDS, strict=True))
VENUE_KIND_ALIASES = dict(zip(("运动场", "停车场", "其他"), VENUE_KINDS, strict=True))
_TRUE = {"1", "true", "yes", "y", "是", "在职"}
_FALSE = {"0", "false", "no", "n", "否", "不在职"}


def code(text: str) -> str:
    if not _CODE.match(text):
        raise ValueError(f"a code is 1 to {CODE_LENGTH} letters, digits, '-' or '_'")
    return text


def name(text: str) -> str:
    """The API's rule for names (``hub.org.names.Name``), on the cell's text."""
    return check_name(text)


def title(text: str) -> str:
    return check_title(text)


def day(text: str) -> date:
    match = _DATE.match(text)
    if not match:
        raise ValueError(f"{text[:40]!r} is not a date: write YYYY-MM-DD")
    try:
        found = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date: {exc}") from None
    if not FIRST_YEAR <= found.year <= LAST_YEAR:
        raise ValueError(f"{text!r}: a date in the years {FIRST_YEAR} to {LAST_YEAR}")
    return found


def site_id(text: str) -> str:
    """A service centre's or venue's id: the site id of its edge agent (``venue-07``)."""
    if not _SITE.match(text):
        raise ValueError(
            f"{text[:40]!r} is not a site id: 1 to 63 lower-case letters, digits, '-' or '_'"
        )
    return text


def clock(text: str) -> time:
    """A wall-clock time, ``HH:MM`` (or ``HH:MM:SS``)."""
    match = _TIME.match(text)
    if not match:
        raise ValueError(f"{text[:40]!r} is not a time of day: write HH:MM, e.g. 06:30")
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


def hours(text: str) -> tuple[time, time] | None:
    """A weekday's opening hours, ``06:00-22:00``; ``休息`` (or ``closed``): closed all day."""
    if text.strip().lower() in {CLOSED, "closed"}:
        return None
    opens, sep, closes = text.replace("–", "-").replace("~", "-").partition("-")
    if not sep:
        raise ValueError(f"{text[:40]!r}: write the hours as 06:00-22:00, or {CLOSED}")
    start, end = clock(opens.strip()), clock(closes.strip())
    if start == end:
        raise ValueError(f"{text!r}: opening and closing at the same time")
    return start, end


def number(low: float, high: float) -> Callable[[str], float]:
    """A decimal number from ``low`` to ``high`` inclusive."""

    def parse(text: str) -> float:
        if not _NUMBER.match(text):
            raise ValueError(f"{text[:40]!r} is not a number")
        value = float(text)
        if not low <= value <= high:
            raise ValueError(f"{text!r} is out of range: {low:g} to {high:g}")
        return value

    return parse


def whole(low: int, high: int) -> Callable[[str], int]:
    """A whole number from ``low`` to ``high`` inclusive."""

    def parse(text: str) -> int:
        if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 10:
            raise ValueError(f"{text[:40]!r} is not a whole number")
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"{value} is out of range: {low} to {high}")
        return value

    return parse


def threshold(text: str) -> float:
    """An alert threshold: more than 0, at most 100 (per cent of the capacity)."""
    value = number(0, 100)(text.removesuffix("%").strip())
    if value <= 0:
        raise ValueError("the alert threshold must be more than 0 (per cent)")
    return value


def one_of(what: str, kinds: tuple[str, ...], aliases: dict[str, str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = aliases.get(text, text)
        if value not in kinds:
            raise ValueError(
                f"{text[:40]!r} is not a {what}: one of {', '.join(kinds)} ({', '.join(aliases)})"
            )
        return value

    return parse


def card(text: str) -> str:
    try:
        return normalise_card(text)
    except ValueError:
        raise ValueError("a card number is 10 hexadecimal digits (0-9, A-F)") from None


def flag(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{text!r} is not yes/no: write 是 or 否 (1 or 0)")


def unit_kind(text: str) -> str:
    value = UNIT_KIND_ALIASES.get(text, text)
    if value not in UNIT_KINDS:
        raise ValueError(
            f"{text!r} is not a unit kind: one of {', '.join(UNIT_KINDS)} "
            f"({', '.join(UNIT_KIND_ALIASES)})"
        )
    return value


def items(text: str) -> list[str]:
    """Menu items separated by ``;``, ``；`` or ``、``."""
    return [title(part.strip()) for part in _LIST_SEPARATORS.split(text) if part.strip()]


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    """The Chinese header, also accepted."""
    parse: Callable[[str], Any]
    required: bool = False

    def matches(self, header: str) -> bool:
        return header.strip().lower() in {self.key, self.label.lower()}


MEMBER_COLUMNS = (
    Column("code", "编号", code, required=True),
    Column("name", "姓名", name, required=True),
    Column("unit_code", "单位编号", code, required=True),
    Column("community_code", "社区编号", code, required=True),
    Column("grid_code", "网格编号", code),
    Column("party_org_code", "党组织编号", code),
    Column("card", "卡号", card),
    Column("in_service", "在职", flag),
    Column("registered_on", "报到日期", day),
)
UNIT_COLUMNS = (
    Column("code", "编号", code, required=True),
    Column("name", "名称", name, required=True),
    Column("kind", "类型", unit_kind, required=True),
    Column("community_code", "社区编号", code),
    Column("alliance_code", "联盟编号", code),
    Column("registered_on", "报到日期", day),
)
AGREEMENT_COLUMNS = (
    Column("code", "编号", code, required=True),
    Column("community_code", "社区编号", code, required=True),
    Column("unit_code", "单位编号", code, required=True),
    Column("signed_on", "签订日期", day, required=True),
    Column("ends_on", "截止日期", day),
    Column("offers", "单位提供", items),
    Column("needs", "社区需求", items),
)
