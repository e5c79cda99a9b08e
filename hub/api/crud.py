"""What the routes share: a page of a query, a row or 404/422, filters by equality."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from fastapi import HTTPException, status
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import QueryableAttribute, Session

T = TypeVar("T")


def page_of(
    session: Session,
    model: type[T],
    conditions: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    *,
    offset: int,
    limit: int,
) -> tuple[int, Sequence[T]]:
    """Rows of ``model`` matching ``conditions``, one page, and how many match in all."""
    count = session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0
    query: Select[T] = (
        select(model).where(*conditions).order_by(*order_by).offset(offset).limit(limit)
    )
    return count, session.scalars(query).all()


def found(session: Session, model: type[T], ident: object, what: str) -> T:
    """The row, or 404 naming what was not found."""
    row = session.get(model, ident)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no {what} {ident}")
    return row


def referenced(session: Session, model: type[Any], ident: object | None, field: str) -> None:
    """422 when a request refers to a record that does not exist."""
    if ident is not None and session.get(model, ident) is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"{field}: no record {ident}"
        )


def conflict(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, detail=detail)


def equal(*pairs: tuple[QueryableAttribute[Any], object]) -> list[ColumnElement[bool]]:
    """``column == value`` for each value given: a filter left out (``None``) lets all through."""
    return [column == value for column, value in pairs if value is not None]
