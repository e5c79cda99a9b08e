"""The columns of the roster files and how each cell is read; a bad cell raises ``ValueError``
with the reason a person can act on."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from hub.org.models import CODE_LENGTH, UNIT_KINDS
from hub.org.names import check_name, check_title
from mqtt_contract.credentials import normalise_card

_CODE = re.compile(rf"^[A-Za-z0-9_-]{{1,{CODE_LENGTH}}}$")
_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_LIST_SEPARATORS = re.compile(r"[;；、]")

UNIT_KIND_ALIASES = {
    "机关": "agency",
    "企业": "enterprise",
    "事业单位": "institution",
    "两新组织": "two_new",
    "其他": "other",
}
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
        raise ValueError(f"{text!r} is not a date: write YYYY-MM-DD")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date: {exc}") from None


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
