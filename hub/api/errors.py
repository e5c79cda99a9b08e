"""What the API answers when it refuses, documented as it is sent.

Every refusal is ``{"detail": ...}``: a sentence naming the field or the record (a route's own
check), or FastAPI's list of the fields that failed validation. Routes declare which refusals
they give with ``refusals(...)``, so the OpenAPI lists each status with this body.

A 405 names, in ``Allow``, every method the path has (Starlette names only those of the first
route it tried). A 422 that quotes a lone surrogate (JSON can carry ``"\ud800"``, UTF-8 cannot)
is written with ASCII escapes instead of failing as a 500.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match, Route


class FieldErrorOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    loc: list[str | int] = Field(examples=[["query", "limit"]], description="where: the field")
    msg: str = Field(examples=["Input should be less than or equal to 1000"])
    type: str = Field(examples=["less_than_equal"])


class ErrorOut(BaseModel):
    detail: str | list[FieldErrorOut] = Field(
        examples=["grid_id: grid 40 is not in community 3"],
        description="why: a sentence, or the fields that failed validation",
    )


_MEANING = {
    400: "the body is not JSON (or not UTF-8)",
    401: "no credentials, or ones that do not work (unknown, revoked, expired)",
    403: "the role may not do this, or not for this centre or unit",
    404: "no such record",
    409: "conflicts with a record there (a code, a card or a name is taken)",
    422: "a parameter or the body is refused; `detail` names it",
    429: "too many requests from this client address; `Retry-After` says when to try again",
}


def refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route or a router for these refusals."""
    return {code: {"model": ErrorOut, "description": _MEANING[code]} for code in codes}


AUTHENTICATED = refusals(401, 403, 422)
"""What any route behind ``require(...)`` may refuse with."""


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    methods = {
        method
        for route in request.app.router.routes
        if isinstance(route, Route)
        and route.methods
        and route.matches({**request.scope, "method": "OPTIONS"})[0] is not Match.NONE
        for method in route.methods
    }
    headers = {**(exc.headers or {}), "Allow": ", ".join(sorted(methods))}
    return await http_exception_handler(
        request, HTTPException(exc.status_code, exc.detail, headers=headers)
    )


async def _invalid_request(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    content = {"detail": jsonable_encoder(exc.errors())}
    try:
        return JSONResponse(content, status_code=422)
    except UnicodeEncodeError:  # the input quoted holds a lone surrogate
        return Response(json.dumps(content), status_code=422, media_type="application/json")


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(405, _method_not_allowed)
    app.add_exception_handler(RequestValidationError, _invalid_request)
