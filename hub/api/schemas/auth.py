"""Logging in, who am I, and the users."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hub.api.params import BodyId
from hub.auth.roles import Permission, Role
from hub.auth.users import USERNAME_PATTERN
from mqtt_contract.topics import ID_PATTERN

_TOKEN_EXAMPLE = "yp_8ZkTq0v3W1xjJYg2b6mA4sQe9rLcN5dVhUoPiKfXtBw"  # noqa: S105 - an example


class TokenLogin(BaseModel):
    """Log in with an API token."""

    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=200, examples=[_TOKEN_EXAMPLE])


class CodeLogin(BaseModel):
    """Log in with the code of a one-click login link."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(
        min_length=1,
        max_length=200,
        examples=["Jq4fW0cX9aT2mV7rK1sP8uY3eN6dH5gL0bZ4iO7wQ2c"],
        description="from a login link (`community user login-link NAME`): works once, "
        "for HUB_LOGIN_CODE_TTL_S seconds",
    )


class MeOut(BaseModel):
    username: str = Field(examples=["wang.centre01"])
    role: Role = Field(examples=["centre_staff"])
    centre_id: str | None = Field(examples=["centre-01"], description="a centre_staff's centre")
    unit_id: int | None = Field(examples=[None], description="a venue_manager's owner unit")
    sites: list[str] | None = Field(
        examples=[["centre-01"]], description="the sites this user sees; null: all"
    )
    permissions: list[Permission] = Field(examples=[["checkins.read", "activities.write"]])
    via: str = Field(examples=["session"], description="token or session")


class UserIn(BaseModel):
    """A centre_staff user names its centre, a venue_manager its owner unit; other roles see
    the whole city and name neither (422 otherwise, as for a centre or unit that is not there)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"username": "wang.centre01", "role": "centre_staff", "centre_id": "centre-01"},
                {"username": "zhao.venues", "role": "venue_manager", "unit_id": 30},
                {"username": "li.records", "role": "records_staff"},
            ]
        }
    )
    username: str = Field(pattern=USERNAME_PATTERN, examples=["wang.centre01"])
    role: Role = Field(examples=["centre_staff"])
    centre_id: str | None = Field(default=None, pattern=ID_PATTERN, examples=["centre-01"])
    unit_id: BodyId | None = Field(default=None, examples=[None])


class UserOut(BaseModel):
    username: str = Field(examples=["wang.centre01"])
    role: Role = Field(examples=["centre_staff"])
    centre_id: str | None = Field(examples=["centre-01"])
    unit_id: int | None = Field(examples=[None])
    created_at: datetime = Field(examples=["2026-11-29T08:00:00Z"])
    revoked_at: datetime | None = Field(examples=[None])
    tokens: int = Field(examples=[1], description="tokens that still work")
    token_prefixes: list[str] = Field(examples=[["yp_8ZkTq0v"]])


class NewUserOut(BaseModel):
    username: str = Field(examples=["wang.centre01"])
    role: Role = Field(examples=["centre_staff"])
    token: str = Field(
        examples=[_TOKEN_EXAMPLE], description="shown this once; only its digest is kept"
    )
