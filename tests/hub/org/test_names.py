"""One rule for the names the records keep, whichever way they come in: the API's bodies and the
roster import refuse the same names (a formula start, ASCII or full-width, also behind a tab or
a space; control, invisible and bidi characters), and the schema's pattern states that rule."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError
from sqlalchemy import Engine

from hub.api import create_app
from hub.api.schemas.activities import ActivityPatch
from hub.api.schemas.members import MemberIn, MemberPatch
from hub.core.settings import HubSettings
from hub.org.models import Member, Unit
from hub.org.names import TEXT_PATTERN, TITLE_LENGTH, check_name
from hub.roster import import_roster
from hub.roster.columns import MEMBER_COLUMNS
from hub.roster.table import TableError, read_table
from tests.hub.org.support import City
from tests.hub.support import CARD_KEY, ApiServer

REFUSED = [
    "=HYPERLINK(1)",
    "+86 139",
    "-1",
    "@SUM(A1)",
    "＝1+1",  # full-width, as Chinese input methods type it
    "＋1",
    "－1",
    "＠x",
    "\t=1+1",  # a spreadsheet skips the tab and runs the formula
    "\r=1+1",
    " =1+1",
    "\u3000＝1",  # ideographic space
    "王\t东",
    "王\r东",
    "王\n东",
    "王\x00东",  # PostgreSQL refuses NUL in text: a 500 once
    "王\x7f东",
    "王\u202e东",  # right-to-left override
    "王\u200b东",  # zero-width space
    "王" * (TITLE_LENGTH + 1),
]
SPACED = ["\t王晓东", "\r王晓东", " 王晓东", "王晓东 ", "\u3000王晓东", "\u00a0王晓东"]
"""Refused by the API; a roster cell's surrounding spaces are trimmed as the file is read."""
TAKEN = ["王晓东", "欧阳娜娜", "Anna-Lena O'Neil", "李 娜", "王-1", "𠀾丽", "王＝东"]

_MEMBER = {"code": "M90001", "unit_id": 1, "community_id": 1}


def _csv_cell(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _import_refuses(name: str) -> bool:
    """The import's own reading of a one-row members file: its table, then the name column."""
    text = f"编号,姓名,单位编号,社区编号\nM90001,{_csv_cell(name)},U01,C01\n"
    try:
        cell = read_table(text.encode(), "csv").rows[0].cells["姓名"]
    except TableError:  # the file as a whole (a NUL: not a text file)
        return True
    column = next(c for c in MEMBER_COLUMNS if c.key == "name")
    try:
        column.parse(cell)
    except ValueError:
        return True
    return False


def _api_refuses(name: str) -> bool:
    try:
        MemberIn.model_validate({**_MEMBER, "name": name})
    except ValidationError as exc:
        errors = exc.errors()
    else:
        return False
    assert [e["loc"] for e in errors] == [("name",)], errors
    return True


@pytest.mark.parametrize("name", REFUSED)
def test_the_api_and_the_import_refuse_the_same_names(name: str) -> None:
    assert _api_refuses(name), "the API took it"
    assert _import_refuses(name), "the import took it"
    for model, field in ((MemberPatch, "name"), (ActivityPatch, "theme"), (ActivityPatch, "title")):
        with pytest.raises(ValidationError):
            model.model_validate({field: name})


@pytest.mark.parametrize("name", SPACED)
def test_surrounding_spaces_are_refused_by_the_api_and_trimmed_by_the_import(name: str) -> None:
    assert _api_refuses(name)
    assert not _import_refuses(name)
    text = f"编号,姓名\nM1,{_csv_cell(name)}\n"
    assert read_table(text.encode(), "csv").rows[0].cells["姓名"] == name.strip()


@pytest.mark.parametrize("name", TAKEN)
def test_names_both_take(name: str) -> None:
    assert not _api_refuses(name)
    assert not _import_refuses(name)


@settings(max_examples=400, derandomize=True, database=None)
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12))
def test_the_schema_pattern_states_the_rule(text: str) -> None:
    """What a client checks against the OpenAPI's pattern is what the API decides."""
    try:
        check_name(text)
        decided = True
    except ValueError:
        decided = False
    assert bool(re.fullmatch(TEXT_PATTERN, text)) == decided, repr(text)


@pytest.fixture
def api(db_settings: HubSettings, city: City) -> Iterator[ApiServer]:
    city.add_unit("U01")
    city.commit()
    settings = db_settings.model_copy(update={"card_key": SecretStr(CARD_KEY.decode())})
    with ApiServer(create_app(settings)) as server:
        yield server


def test_neither_path_stores_a_refused_name(api: ApiServer, city: City, engine: Engine) -> None:
    """On both databases (PostgreSQL would have failed on the NUL with a 500)."""
    unit = city.session.scalar(sa.select(Unit.id).where(Unit.code == "U01"))
    body = {**_MEMBER, "unit_id": unit, "community_id": city.community.id}
    for number, name in enumerate(REFUSED + SPACED):
        response = api.http.post("/api/v1/members", json={**body, "name": name})
        assert response.status_code == 422, (name, response.text)
        assert [e["loc"] for e in response.json()["detail"]] == [["body", "name"]], name
        row = f"M9{number:04d},{_csv_cell(name)},U01,C01\n"
        report = import_roster(
            city.session,
            "members",
            f"编号,姓名,单位编号,社区编号\n{row}".encode(),
            "csv",
            card_key=CARD_KEY,
        )
        if name in REFUSED:
            assert [(e.column, e.line > 0) for e in report.errors] in (
                [("name", True)],
                [(None, False)],  # the NUL: the file is not text
            ), (name, report.errors)
    with engine.connect() as conn:
        names = conn.execute(sa.select(Member.name)).scalars().all()
    assert sorted(names) == sorted(n.strip() for n in SPACED), "only the trimmed names"
