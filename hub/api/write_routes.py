"""A registry table's four write routes, registered the same way for each (as ``hub.api.listing``
registers the reads): ``POST /things`` (201, the detail), ``PATCH /things/{thing_id}`` (the
fields given), ``POST /things/{thing_id}/archive`` and ``/restore`` (200, the detail).

Each write checks, in this order, and refuses naming the field (``hub.api.writing``): a ``null``
for a field that cannot be empty, references to rows missing or archived, a code taken (409),
then the domain's own rules (``rules``: a function of the session and the row as it would be
written, raising ``hub.org.registry.RegistryError``). Fields of the body that are not columns
(an agreement's ``menu``) go to ``extras`` once the row has its id.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the endpoints' annotations, and
# these are built from the arguments (the body models, the id's name), so they must be objects.

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, params, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from hub.api.crud import found
from hub.api.deps import SessionDep
from hub.api.errors import refusals
from hub.api.params import RecordId
from hub.api.writing import (
    apply,
    archive,
    check_references,
    check_unique,
    commit,
    field_error,
    restore,
)
from hub.core.base import Archivable
from hub.org.registry import RegistryError

Rules = Callable[[Session, Any], None]
Extras = Callable[[Session, Any, dict[str, Any]], None]


@dataclass(frozen=True)
class Writes:
    """What a table's writes need to know. ``references``: body field → the table it refers
    to; ``required``: fields a patch may not set to ``null``; ``unique``: fields no two rows
    share; ``extras``: body fields that are not columns, handed to ``save_extras``."""

    table: type[Any]
    name: str
    """The operations' names: create_{name}, update_{name}, archive_{name}, restore_{name}."""
    what: str
    id_name: str
    create: type[BaseModel]
    patch: type[BaseModel]
    out: type[BaseModel]
    detail: Callable[[Session, Any], BaseModel]
    references: Mapping[str, type[Any]] = field(default_factory=dict)
    required: Sequence[str] = ()
    unique: Sequence[str] = ("code",)
    rules: Rules | None = None
    extras: Sequence[str] = ()
    save_extras: Extras | None = None


def refused(error: RegistryError) -> Exception:
    """A domain rule's refusal in the API's shape: 409 for a clash with another row."""
    code = status.HTTP_409_CONFLICT if error.kind == "overlap" else 422
    return field_error(error.field, str(error), error.kind, code)


def check(
    session: Session,
    writes: Writes,
    row: Any,
    given: Mapping[str, Any],
    own: object | None = None,
) -> None:
    """The references and unique values among ``given``, then the rules on ``row``."""
    refs = {f: (t, given[f]) for f, t in writes.references.items() if f in given}
    # the rules read other rows: the changed row must not be flushed before they pass
    with session.no_autoflush:
        check_references(session, refs)
        check_unique(
            session, writes.table, {f: given[f] for f in writes.unique if f in given}, own=own
        )
        if writes.rules is not None:
            try:
                writes.rules(session, row)
            except RegistryError as error:
                raise refused(error) from None


def add_writes(
    router: APIRouter,
    path: str,
    writes: Writes,
    *,
    dependencies: Sequence[params.Depends] | None = None,
) -> None:
    """Register the four write routes of ``writes.table`` at ``path``."""
    create_body = writes.create
    patch_body = writes.patch

    def ident(value: Annotated[RecordId, Path(alias=writes.id_name)]) -> int:
        return value

    ident_dep = Annotated[int, Depends(ident)]

    def create(session: SessionDep, body: create_body) -> BaseModel:  # type: ignore[valid-type]
        values = body.model_dump()  # type: ignore[attr-defined]
        extra = {f: values.pop(f) for f in writes.extras}
        row = writes.table(**values)
        check(session, writes, row, values)
        session.add(row)
        if writes.save_extras is not None:
            session.flush()  # the row's id, for the rows that refer to it
            writes.save_extras(session, row, extra)
        commit(session, clash_field=writes.unique[0] if writes.unique else "id")
        return writes.detail(session, row)

    def update(session: SessionDep, key: ident_dep, body: patch_body) -> BaseModel:  # type: ignore[valid-type]
        row = found(session, writes.table, key, writes.what)
        changes = body.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
        extra = {f: changes.pop(f) for f in writes.extras if f in changes}
        for f, value in extra.items():
            if value is None:
                raise field_error(f, f"{f} cannot be null", "required")
        with session.no_autoflush:
            apply(row, changes, writes.required)
        check(session, writes, row, changes, own=key)
        if writes.save_extras is not None and extra:
            writes.save_extras(session, row, extra)
        commit(session, clash_field=writes.unique[0] if writes.unique else "id")
        return writes.detail(session, row)

    def archive_row(session: SessionDep, key: ident_dep) -> BaseModel:
        row: Archivable = found(session, writes.table, key, writes.what)
        archive(session, row)
        return writes.detail(session, row)

    def restore_row(session: SessionDep, key: ident_dep) -> BaseModel:
        row: Archivable = found(session, writes.table, key, writes.what)
        restore(session, row)
        return writes.detail(session, row)

    one = f"{path}/{{{writes.id_name}}}"
    routes: list[tuple[str, str, Callable[..., BaseModel], str, int, dict[int | str, Any]]] = [
        (
            path,
            "POST",
            create,
            f"create_{writes.name}",
            status.HTTP_201_CREATED,
            refusals(409),
        ),
        (one, "PATCH", update, f"update_{writes.name}", status.HTTP_200_OK, refusals(404, 409)),
        (f"{one}/archive", "POST", archive_row, f"archive_{writes.name}", 200, refusals(404)),
        (f"{one}/restore", "POST", restore_row, f"restore_{writes.name}", 200, refusals(404)),
    ]
    docs = {
        "create": f"Register a {writes.what}: 201 with it as its detail route returns it.",
        "update": f"Change the fields given of a {writes.what} (a field left out is kept).",
        "archive": f"Archive a {writes.what}: hidden from lists, not to be newly referred to.",
        "restore": f"Bring an archived {writes.what} back.",
    }
    for route, method, endpoint, name, code, responses in routes:
        router.add_api_route(
            route,
            endpoint,
            methods=[method],
            name=name,
            description=docs[name.split("_", 1)[0]],
            response_model=writes.out,
            status_code=code,
            responses=responses,
            dependencies=dependencies,
        )
