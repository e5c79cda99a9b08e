"""The edge process's main loop: tell systemd it is ready, then keep its watchdog fed while every
agent is healthy (``EdgeAgent.problems``), with a ``STATUS=`` line for ``systemctl status``.

An agent that stops being healthy stops the ``WATCHDOG=1`` messages; after ``WatchdogSec=``
systemd kills the process and ``Restart=always`` starts a new one. A main loop that hangs stops
them too. Without systemd (no ``NOTIFY_SOCKET``) the loop still checks, and logs what it finds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from edge.agent import EdgeAgent
from edge.sd_notify import Notifier, status_line

log = logging.getLogger(__name__)

CHECK_EVERY_S = 10.0
"""How often the agents are checked without a watchdog (with one: twice per its period)."""


def summary(agents: Sequence[EdgeAgent]) -> str:
    """One line per process: each site's pending events and broker connection."""
    parts = []
    for agent in agents:
        try:
            pending = f"{agent.outbox.stats().pending} pending"
        except Exception:  # a broken outbox is reported by problems(), not here
            pending = "outbox unreadable"
        broker = "broker connected" if agent.publisher.connected else "broker not connected"
        parts.append(
            f"{agent.settings.site}: {len(agent.settings.devices)} device(s), {pending}, {broker}"
        )
    return "; ".join(parts)


def supervise(agents: Sequence[EdgeAgent], stop: threading.Event, notifier: Notifier) -> None:
    """Run until ``stop`` is set; the agents are started already."""
    notifier.send("READY=1", status_line(summary(agents)))
    period = notifier.watchdog_s / 2 if notifier.watchdog_s else CHECK_EVERY_S
    reported: list[str] = []
    while not stop.wait(period):
        problems = [problem for agent in agents for problem in agent.problems()]
        if problems != reported:
            for problem in problems:
                log.error("unhealthy: %s", problem)
            if not problems:
                log.info("healthy again")
            reported = problems
        if problems:
            notifier.send(status_line("unhealthy: " + "; ".join(problems)))
        else:
            lines = [status_line(summary(agents))]
            notifier.send(*(["WATCHDOG=1", *lines] if notifier.watchdog_s else lines))
    notifier.send("STOPPING=1", status_line("stopping"))
