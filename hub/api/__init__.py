"""The hub's HTTP API (FastAPI): records, health and metrics."""

from __future__ import annotations

from hub.api.app import create_app

__all__ = ["create_app"]
