"""The hub's HTTP API (FastAPI): records, health and metrics."""

from __future__ import annotations

from fastapi import FastAPI as App  # what the composition root builds and the server runs

from hub.api.app import create_app

__all__ = ["App", "create_app"]
