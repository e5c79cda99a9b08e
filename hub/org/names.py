"""Synthetic Chinese names for seed data, the masking every displayed name goes through, and
the one rule for the names and titles the records keep, whichever way they come in (the API's
bodies or a roster file).

The seed names are drawn from common surnames and given-name characters: plausible, invented,
never taken from a real roster.
"""

from __future__ import annotations

import random
import re
from typing import Annotated

from pydantic import AfterValidator, Field

from hub.core.base import NAME_LENGTH

TITLE_LENGTH = 200
"""Activity titles and the items of an agreement's menu."""

# Characters that hide or reorder text, or end a line: the C0 and C1 controls, DEL, the soft
# hyphen, zero-width and bidi controls, word joiners, line and paragraph separators, the BOM.
_HIDDEN = r"\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
# Spaces a spreadsheet or a form would not show at either end (ASCII, no-break, ideographic...).
_SPACE = r" \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
# A cell starting with one of these is run as a formula by spreadsheet programs (the full-width
# forms too: Chinese input methods type them, and spreadsheets read them as the ASCII ones).
FORMULA_START = "=+-@\uff1d\uff0b\uff0d\uff20"
_FORMULA = r"=+\-@\uff1d\uff0b\uff0d\uff20"

TEXT_PATTERN = rf"^[^{_HIDDEN}{_SPACE}{_FORMULA}]([^{_HIDDEN}]*[^{_HIDDEN}{_SPACE}])?$"
"""The rule below as a regular expression (ECMA 262 and Python read it alike), for the API's
schema, so that a client can check a name before sending it."""

_HIDDEN_CHAR = re.compile(rf"[{_HIDDEN}\ud800-\udfff]")
_SPACES = re.compile(rf"[{_SPACE}]")


def check_text(text: str, limit: int) -> str:
    """A name or title as the records keep it, or ``ValueError`` with the reason.

    Refused: empty or longer than ``limit``; a space at either end; a first character that a
    spreadsheet would run as a formula (exports open in spreadsheets); control, invisible or
    bidi characters anywhere (they hide what a name says, and a database may refuse them)."""
    if not text:
        raise ValueError("may not be empty")
    if len(text) > limit:
        raise ValueError(f"longer than {limit} characters")
    if _HIDDEN_CHAR.search(text):
        raise ValueError("contains control characters")
    if _SPACES.match(text[0]) or _SPACES.match(text[-1]):
        raise ValueError("may not begin or end with a space")
    if text.startswith(tuple(FORMULA_START)):
        raise ValueError("may not begin with = + - @ (spreadsheets would run it as a formula)")
    return text


def check_name(text: str) -> str:
    return check_text(text, NAME_LENGTH)


def check_title(text: str) -> str:
    return check_text(text, TITLE_LENGTH)


_TEXT_RULE = (
    "no space at either end, no control or invisible characters, and not beginning with "
    "= + - @ (or their full-width forms), which spreadsheets would run as a formula"
)

Name = Annotated[
    str,
    Field(
        min_length=1,
        max_length=NAME_LENGTH,
        description=f"1 to {NAME_LENGTH} characters: {_TEXT_RULE}",
        json_schema_extra={"pattern": TEXT_PATTERN},
    ),
    AfterValidator(check_name),
]
"""A person's, a unit's or a theme's name, as the API takes it (the roster import checks its
cells with ``check_name``: the same rule)."""

Title = Annotated[
    str,
    Field(
        min_length=1,
        max_length=TITLE_LENGTH,
        description=f"1 to {TITLE_LENGTH} characters: {_TEXT_RULE}",
        json_schema_extra={"pattern": TEXT_PATTERN},
    ),
    AfterValidator(check_title),
]

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
    "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国文斌宇浩凯鹏辉志晨欣怡佳琳雪梅婷雯"
    "海波春燕晓东亮瑞德祥福安康宁朝阳光荣新立振兴永成俊峰岚慧颖思远卫红云松柏青山"
)


def synthetic_name(rng: random.Random) -> str:
    """Surname and one or two given-name characters."""
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def mask_name(name: str) -> str:
    """张伟 → 张*, 王晓东 → 王*东, 欧阳娜娜 → 欧**娜: enough to recognise, not to identify."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
