"""A table's two read routes, registered the same way for each: ``GET /things``, filtered and
paged (``{"data": [...], "count": N}``), and ``GET /things/{thing_id}``, 404 naming the id.

A list's query parameters are those of its ``filters``, a dependency that turns them into SQL
conditions (and that takes the principal when the list is narrowed to the caller's scope); the
paging parameters are ``hub.api.params``' bounded ones. The operation's name (its id and summary
in the OpenAPI schema), description, response model and permission are the caller's.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the endpoints' annotations, and
# these are built from the arguments (the filters, the id's name), so they must be objects.

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, params
from pydantic import BaseModel
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from hub.api.crud import found, page_of
from hub.api.deps import LimitQuery, OffsetQuery, SessionDep
from hub.api.errors import refusals
from hub.api.params import RecordId
from hub.api.schemas import Page
from mqtt_contract.topics import ID_PATTERN

Row = TypeVar("Row")
Out = TypeVar("Out", bound=BaseModel)

Conditions = list[ColumnElement[bool]]
"""What a list's ``filters`` dependency returns: the conditions its query parameters ask for."""


@dataclass(frozen=True)
class Paging:
    offset: int
    limit: int


def paging(offset: OffsetQuery = 0, limit: LimitQuery = 100) -> Paging:
    return Paging(offset=offset, limit=limit)


PagingDep = Annotated[Paging, Depends(paging)]


def no_filters() -> Conditions:
    return []


ScopeCheck = Callable[[Any], None]
"""What a detail's ``scope`` dependency returns: a check that raises 403 for a row outside the
caller's scope."""


def _everyone(_row: Any) -> None:
    return None


def no_scope() -> ScopeCheck:
    return _everyone


def add_list(
    router: APIRouter,
    path: str,
    *,
    table: type[Row],
    out: type[Out],
    order_by: Sequence[Any],
    name: str,
    doc: str | None = None,
    filters: Callable[..., Conditions] = no_filters,
    to_out: Callable[[Row], Out] | None = None,
    dependencies: Sequence[params.Depends] | None = None,
) -> None:
    """``GET path``: the rows of ``table`` that ``filters`` lets through, in ``order_by``, one
    page, each as ``to_out`` makes it (``out`` read from the row's attributes by default)."""
    item = to_out or out.model_validate

    def endpoint(
        session: SessionDep,
        where: Annotated[Conditions, Depends(filters)],
        page: PagingDep,
    ) -> Page[Out]:
        count, rows = page_of(session, table, where, order_by, offset=page.offset, limit=page.limit)
        return Page(data=[item(row) for row in rows], count=count)

    router.add_api_route(
        path,
        endpoint,
        methods=["GET"],
        name=name,
        description=_description(doc),
        response_model=Page[out],  # type: ignore[valid-type]  # the model is an argument
        dependencies=dependencies,
    )


def add_detail(
    router: APIRouter,
    path: str,
    *,
    table: type[Row],
    out: type[BaseModel],
    what: str,
    id_name: str,
    name: str,
    doc: str | None = None,
    id_examples: list[str] | None = None,
    detail: Callable[[Session, Row], BaseModel] | None = None,
    scope: Callable[..., ScopeCheck] = no_scope,
    dependencies: Sequence[params.Depends] | None = None,
) -> None:
    """``GET path/{id_name}``: the row of ``table`` (404 ``no {what} {id}``) as ``detail``
    makes it (``out`` read from the row's attributes by default). The id is a record id, or,
    with ``id_examples``, a site or venue id (``ID_PATTERN``). ``scope`` is a dependency (on the
    principal) whose check refuses a row outside the caller's scope."""
    ident = _record_id(id_name) if id_examples is None else _site_id(id_name, id_examples)

    def endpoint(
        session: SessionDep,
        key: Annotated[int | str, Depends(ident)],
        check: Annotated[ScopeCheck, Depends(scope)],
    ) -> BaseModel:
        row = found(session, table, key, what)
        check(row)
        return detail(session, row) if detail is not None else out.model_validate(row)

    router.add_api_route(
        f"{path}/{{{id_name}}}",
        endpoint,
        methods=["GET"],
        name=name,
        description=_description(doc),
        response_model=out,
        responses=refusals(404),
        dependencies=dependencies,
    )


def add_list_and_detail(
    router: APIRouter,
    path: str,
    *,
    table: type[Row],
    out: type[BaseModel],
    order_by: Sequence[Any],
    list_name: str,
    detail_name: str,
    id_name: str,
    what: str,
    list_doc: str | None = None,
    filters: Callable[..., Conditions] = no_filters,
    dependencies: Sequence[params.Depends] | None = None,
) -> None:
    """The plain pair: the list, and the detail of one row, both as ``out``."""
    add_list(
        router,
        path,
        table=table,
        out=out,
        order_by=order_by,
        name=list_name,
        doc=list_doc,
        filters=filters,
        dependencies=dependencies,
    )
    add_detail(
        router,
        path,
        table=table,
        out=out,
        what=what,
        id_name=id_name,
        name=detail_name,
        dependencies=dependencies,
    )


def _record_id(id_name: str) -> Callable[[int], int]:
    def ident(value: Annotated[RecordId, Path(alias=id_name)]) -> int:
        return value

    return ident


def _site_id(id_name: str, examples: list[str]) -> Callable[[str], str]:
    def ident(
        value: Annotated[str, Path(alias=id_name, pattern=ID_PATTERN, examples=examples)],
    ) -> str:
        return value

    return ident


def _description(doc: str | None) -> str | None:
    """As FastAPI reads a docstring (the endpoints here have none of their own)."""
    return inspect.cleandoc(doc) if doc else None
