"""Mosquitto's own config file for the contract's broker: one listener, no anonymous clients, the
dynamic-security plugin holding every account (``community broker-config``; the demo's and the
tests' private brokers in ``demo.broker.mosquitto`` add their own lines)."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path


def dynsec_plugin() -> str | None:
    """Mosquitto's dynamic-security plugin (Debian ships it in the ``mosquitto`` package)."""
    candidates = [
        *sorted(glob.glob("/usr/lib/*/mosquitto_dynamic_security.so")),
        "/usr/lib/mosquitto_dynamic_security.so",
        "/usr/local/lib/mosquitto_dynamic_security.so",
    ]
    return next((p for p in candidates if os.access(p, os.R_OK)), None)


def mosquitto_conf(
    *,
    listener: str,
    plugin: str,
    dynsec_file: Path,
    persistence_dir: Path,
    extra: Sequence[str] = (),
) -> str:
    """``listener`` is Mosquitto's own ``PORT [ADDRESS]``."""
    return "\n".join(
        [
            f"listener {listener}",
            "allow_anonymous false",
            f"plugin {plugin}",
            f"plugin_opt_config_file {dynsec_file}",
            "persistence true",
            f"persistence_location {persistence_dir}/",
            *extra,
            "",
        ]
    )
