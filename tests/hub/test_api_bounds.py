"""Every number, id, time and month the API takes is bounded in its schema, and a value past the
bound is 422 naming the parameter, on SQLite and on PostgreSQL: the values that gave 500s (an
offset past 2^63 - 1, year 1 or 9999 with the widest offsets, a 23-digit id, month 0000-01 and
2026-00) and a number where a time belongs (``until=0.5``). The largest value taken still
answers (the bound is one the databases hold)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hub.api import create_app
from hub.api.params import MAX_ID, MAX_OFFSET
from hub.core.settings import HubSettings
from tests.hub.support import ApiServer

TOO_FAR = {
    "offset": ["9223372036854775808", str(MAX_OFFSET + 1), "-1"],
    "time": [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "1999-12-31T23:59:59Z",
        "2100-01-01T00:00:00Z",
        "0.5",
        "1764230400",
        "2026-11-27T08:00:00",  # no offset
        "2026-02-30T00:00:00Z",
    ],
    "id": ["12345678901234567890123", str(MAX_ID + 1), "0"],
    "month": ["0000-01", "2026-00", "2026-13", "1999-12", "2100-01"],
}
TIME_PARAMETERS = {"since", "until", "from", "to"}


@pytest.fixture
def api(db_settings: HubSettings) -> Iterator[ApiServer]:
    with ApiServer(create_app(db_settings)) as server:
        yield server


def _gets(api: ApiServer) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Each GET of the API (the stream aside: it never ends) and its parameters."""
    for path, item in api.get("/openapi.json").json()["paths"].items():
        if "get" in item and path.startswith("/api/v1/") and path != "/api/v1/stream":
            yield path, item["get"].get("parameters", [])


def _example(parameter: dict[str, Any]) -> str:
    schema = parameter["schema"]
    examples = parameter.get("examples") or schema.get("examples") or [schema.get("default")]
    value = examples[0] if not isinstance(examples, dict) else next(iter(examples.values()))
    assert value is not None, f"{parameter['name']} has an example"
    return str(value)


def _call(
    api: ApiServer, path: str, parameters: list[dict[str, Any]], name: str, value: str
) -> Any:
    """The GET with ``name`` set to ``value`` and every other required parameter its example."""
    query: dict[str, str] = {}
    for parameter in parameters:
        given = value if parameter["name"] == name else None
        if given is None and not parameter.get("required"):
            continue
        text = given if given is not None else _example(parameter)
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", text)
        else:
            query[parameter["name"]] = text
    return api.get(path, **query)


def _kind(parameter: dict[str, Any]) -> str | None:
    schema = parameter["schema"]
    options = schema.get("anyOf", [schema])
    if parameter["name"] == "offset":
        return "offset"
    if parameter["name"] in TIME_PARAMETERS:
        return "time"
    if parameter["name"] == "month":
        return "month"
    if any(o.get("type") == "integer" for o in options) and parameter["name"].endswith("id"):
        return "id"
    if parameter["in"] == "path" and any(o.get("type") == "integer" for o in options):
        return "id"
    return None


def test_values_past_the_bounds_are_422_naming_the_parameter(api: ApiServer) -> None:
    tried: dict[str, int] = dict.fromkeys(TOO_FAR, 0)
    for path, parameters in _gets(api):
        for parameter in parameters:
            kind = _kind(parameter)
            if kind is None:
                continue
            for value in TOO_FAR[kind]:
                response = _call(api, path, parameters, parameter["name"], value)
                where = f"{path} {parameter['name']}={value}"
                assert response.status_code == 422, f"{where}: {response.status_code}"
                locations = [e["loc"][-1] for e in response.json()["detail"]]
                assert locations == [parameter["name"]], f"{where}: {locations}"
                tried[kind] += 1
    # the class, not a case: every paginated list, every id, every time and month parameter
    assert tried["offset"] >= 3 * 24, tried
    assert tried["id"] >= 3 * 30, tried
    assert tried["time"] >= 8 * 10, tried
    assert tried["month"] >= 5 * 3, tried


def test_the_largest_values_taken_still_answer(api: ApiServer) -> None:
    for path, parameters in _gets(api):
        for parameter in parameters:
            kind = _kind(parameter)
            largest = {
                "offset": str(MAX_OFFSET),
                "id": str(MAX_ID),
                "time": "2099-12-31T23:59:59.999999-14:00",
                "month": "2099-12",
            }.get(kind or "")
            if largest is None:
                continue
            response = _call(api, path, parameters, parameter["name"], largest)
            assert response.status_code in {200, 404}, (
                f"{path} {parameter['name']}: {response.text}"
            )


def test_the_schema_states_the_bounds(api: ApiServer) -> None:
    for path, parameters in _gets(api):
        for parameter in parameters:
            kind = _kind(parameter)
            schema = parameter["schema"]
            option = next(
                (o for o in schema.get("anyOf", [schema]) if o.get("type") != "null"), schema
            )
            where = f"{path} {parameter['name']}"
            if kind == "offset":
                assert option.get("maximum") == MAX_OFFSET, where
            elif kind == "id":
                assert option.get("maximum") == MAX_ID, where
            elif kind in {"time", "month"}:
                assert option.get("pattern", "").startswith("^20"), where
