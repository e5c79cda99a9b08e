"""Configuration changed by the hub's ``config`` command, kept beside the outbox.

The TOML file stays as it was written at the box (it may hold secrets, it may be read-only, a
comment in it is worth keeping); what commands changed is kept in ``{outbox}.config.json`` next to
the outbox and laid over the file at every start, so a change survives ``community edge``
restarting. Deleting that file goes back to the TOML.

Only what a city changes from afar may be changed this way: the heartbeat interval, the resend
and retention times, the in-flight window, and the devices with their reader and poll settings.
The site, its secrets, the broker account and where the outbox lives are set at the box.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from edge.config import ConfigError, EdgeSettings, describe_errors
from edge.private_files import write_private
from mqtt_contract.commands import CONFIG_KEYS

log = logging.getLogger(__name__)

CHANGEABLE = CONFIG_KEYS


def override_beside(outbox_path: Path) -> Path:
    return outbox_path.with_name(f"{outbox_path.stem}.config.json")


def changed(settings: EdgeSettings, changes: dict[str, Any]) -> EdgeSettings:
    """``settings`` with ``changes`` laid over it (each key replaces the value: ``devices`` is the
    whole list); :class:`ConfigError` says why when a key may not change or the result is not a
    valid config."""
    if not changes:
        raise ConfigError("no settings given")
    refused = sorted(set(changes) - CHANGEABLE)
    if refused:
        raise ConfigError(
            f"{', '.join(refused)} cannot be changed by a command (only "
            f"{', '.join(sorted(CHANGEABLE))}; the site, its secrets and the broker account "
            "are set at the box)"
        )
    values = {name: getattr(settings, name) for name in EdgeSettings.model_fields}
    try:
        return EdgeSettings(**{**values, **changes})
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc)) from None


def with_override(settings: EdgeSettings) -> EdgeSettings:
    """``settings`` with the changes kept beside its outbox, if any."""
    path = override_beside(settings.outbox_path)
    stored = _read(path)
    if not stored:
        return settings
    try:
        result = changed(settings, stored)
    except ConfigError as exc:
        raise ConfigError(
            f"{path} (settings changed by the hub) does not fit the config file: {exc}; "
            "delete it to run the file as it is"
        ) from None
    log.info("settings changed by the hub (%s) from %s", ", ".join(sorted(stored)), path)
    return result


def keep(settings: EdgeSettings, changes: dict[str, Any]) -> None:
    """Add ``changes`` to the stored override (written atomically, private: it names ports)."""
    path = override_beside(settings.outbox_path)
    stored = {**_read(path), **changes}
    write_private(path, json.dumps(stored, indent=2, sort_keys=True) + "\n")


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc}); delete it to run the file") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a JSON object; delete it to run the file")
    return data
