"""One asyncio event loop on a daemon thread, shared by every Modbus line a process simulates.

pymodbus's servers are asyncio objects; running all of them (and the pty bridges) on one loop keeps
52 venues to one thread. Other threads hand work to it with :meth:`SimLoop.run`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from firmware_sim.closing import Closing

log = logging.getLogger(__name__)

T = TypeVar("T")


class SimLoop(Closing):
    """Start with the constructor, stop with :meth:`close` (or use it as a context manager)."""

    def __init__(self, name: str = "modbus-sim") -> None:
        self._loop = asyncio.new_event_loop()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._loop.is_closed()

    def in_loop(self) -> bool:
        return threading.current_thread() is self._thread

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 10.0) -> T:
        """Run ``coro`` on the loop and wait for its result (from any thread but the loop's)."""
        if self.in_loop() or not self.running:
            coro.close()
            raise RuntimeError("SimLoop.run() needs a running loop and another thread")
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout_s)

    def spawn(self, coro: Coroutine[Any, Any, object]) -> None:
        """Start ``coro`` as a task on the loop; it is cancelled by :meth:`close`."""

        def start() -> None:
            task = self._loop.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._done)

        self._loop.call_soon_threadsafe(start)

    def close(self) -> None:
        if not self._thread.is_alive():
            return

        async def cancel_all() -> None:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self.run(cancel_all())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            if not self._thread.is_alive():
                self._loop.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("simulator task failed", exc_info=task.exception())
