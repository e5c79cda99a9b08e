"""The ``community`` console command: one entry point for every program of the system.

Each subcommand lives in its own package and is imported only when asked for, so running an edge
agent never loads the hub (nor needs the hub's dependencies installed: ``pip install '.[edge]'``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from importlib import import_module

COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("demo.cli:main", "run the whole system on embedded defaults"),
    "hub": (
        "hub.server:main",
        "run the hub (ingest, API); 'community hub migrate' upgrades the database",
    ),
    "edge": (
        "edge.cli:main",
        "run one site's edge agent: --config FILE; 'community edge install BUNDLE' sets up a box",
    ),
    "sim": ("firmware_sim.cli:main", "run simulated devices behind pty serial ports"),
    "seed": ("demo.seed_cli:main", "fill a database with a synthetic city: --seed N"),
    "import": ("hub.roster.cli:import_main", "import any registry kind from CSV or XLSX"),
    "cards": ("hub.org.cards_cli:main", "keygen|public-key|site-key: the hub's card keys"),
    "broker-certs": (
        "hub.broker.certs_cli:main",
        "--out DIR --host NAME: the broker's CA and TLS server certificate",
    ),
    "site": ("hub.sites.cli:main", "add|list|rotate|revoke|bundle: sites, their broker accounts"),
    "broker-config": (
        "hub.sites.cli:broker_config_main",
        "write mosquitto.conf + dynamic-security.json from the site registry",
    ),
    "user": (
        "hub.auth.cli:main",
        "add|list|revoke|token|login-link: users of the API and dashboard",
    ),
    "audit": ("hub.audit.cli:main", "list|purge: the audit log of every change and export"),
    "backup": ("hub.backup.cli:backup_main", "--out FILE|DIR: back up the hub's database"),
    "restore": (
        "hub.backup.cli:restore_main",
        "FILE [--force] | --check FILE: restore or verify a backup",
    ),
    "retention": ("hub.retention.cli:main", "status|run: what the hub keeps and for how long"),
}

USAGE = (
    "usage: community {"
    + ",".join(COMMANDS)
    + "} [options]\n\n"
    + "\n".join(f"  {name:<13} {help_text}" for name, (_, help_text) in COMMANDS.items())
)


def _load(target: str) -> Callable[[list[str]], int]:
    module_name, func_name = target.split(":")
    func: Callable[[list[str]], int] = getattr(import_module(module_name), func_name)
    return func


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        # Run as a process (the console script, ``python -m community``; not a test calling main):
        # whatever any program creates is its owner's alone (SQLite's hub.db, -wal and -shm,
        # logs with masked names, the broker's persistence), including files made by libraries
        # and children that no helper of ours opens. hub/core/private_files.py does it per file.
        os.umask(0o077)
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help"}:
        print(USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"community: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    if command == "hub" and rest[:1] == ["migrate"]:
        return _load("hub.server:migrate_main")(rest[1:])
    return _load(COMMANDS[command][0])(rest)
