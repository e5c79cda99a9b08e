"""The hub's web dashboard: static pages (plain ES modules, no build step) served at ``/``."""

from __future__ import annotations

from hub.api.dashboard.static import add_dashboard, web_root

__all__ = ["add_dashboard", "web_root"]
