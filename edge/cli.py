"""``community edge --config FILE``: run one site's edge agent until SIGTERM or Ctrl-C.

``community edge install BUNDLE``: set this box up to run it as a service (``edge.install``).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from edge.agent import EdgeAgent
from edge.config import ConfigError, load_settings
from edge.install_cli import main as install_main
from edge.outbox import OutboxError
from edge.sd_notify import Notifier
from edge.supervise import supervise

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    if argv is not None and argv[:1] == ["install"]:
        return install_main(argv[1:])
    parser = argparse.ArgumentParser(prog="community edge", description=__doc__)
    parser.add_argument(
        "--config",
        type=Path,
        required=True,
        action="append",
        help="the site's TOML config file; repeat it to run several sites' agents in one "
        "process (a demo or test bench: each keeps its own outbox and broker session)",
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    agents: list[EdgeAgent] = []
    try:
        for config in args.config:
            agents.append(EdgeAgent(load_settings(config)))
    except (ConfigError, OutboxError, ValueError) as exc:
        print(f"community edge: {exc}", file=sys.stderr)
        for agent in agents:
            agent.outbox.close()
        return 2
    sites = [a.settings.site for a in agents]
    outboxes = [a.settings.outbox_path.resolve() for a in agents]
    if len(set(sites)) < len(sites) or len(set(outboxes)) < len(outboxes):
        print("community edge: each config needs its own site and outbox_path", file=sys.stderr)
        for agent in agents:
            agent.outbox.close()
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    for agent in agents:
        agent.start()
    supervise(agents, stop, Notifier())
    log.info("stopping")
    for agent in agents:
        agent.stop()
    return 0
