"""A job the hub runs on a timer beside ingest (retention, escalation of overdue requests): its
own thread, started and stopped with the ingest worker's services (``add_service``)."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class PeriodicJob:
    """Calls :meth:`tick` every ``interval_s``, first ``first_run_s`` after start. A tick that
    fails is logged and the next one runs on time: a job never takes the hub down."""

    def __init__(self, *, name: str, interval_s: float, first_run_s: float) -> None:
        self._interval_s = interval_s
        self._first_run_s = first_run_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def tick(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(30)

    def _run(self) -> None:
        if self._stopping.wait(self._first_run_s):
            return
        while not self._stopping.is_set():
            try:
                self.tick()
            except Exception:
                log.exception(
                    "%s failed; it runs again in %.0f s", self._thread.name, self._interval_s
                )
            self._stopping.wait(self._interval_s)
