"""Request and response models of the API, a module per area, with examples so that the OpenAPI
schema documents real payloads. Here: what every area shares."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

FROM_ROWS = ConfigDict(from_attributes=True)
"""The config of a model read from an ORM row."""


class Page(BaseModel, Generic[T]):
    data: list[T]
    count: int = Field(description="how many rows match the filters in all, over every page")
