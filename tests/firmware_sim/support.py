"""Helpers shared by the simulator and card-reader tests."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(
    condition: Callable[[], object], timeout_s: float = 5.0, what: str = "condition"
) -> None:
    """Poll until ``condition()`` is true; fail after ``timeout_s`` (a deadline, not a sleep)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.01)
