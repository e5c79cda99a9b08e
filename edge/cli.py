"""``community edge --config FILE``: run one site's edge agent until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from edge.agent import EdgeAgent
from edge.config import ConfigError, load_settings
from edge.outbox import OutboxError

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="community edge", description=__doc__)
    parser.add_argument("--config", type=Path, required=True, help="the site's TOML config file")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        agent = EdgeAgent(load_settings(args.config))
    except (ConfigError, OutboxError, ValueError) as exc:
        print(f"community edge: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    agent.start()
    stop.wait()
    log.info("stopping")
    agent.stop()
    return 0
