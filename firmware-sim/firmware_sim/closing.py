"""The simulators' one way of being used in a ``with`` block: closed on the way out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class Closing(ABC):
    """A context manager that gives itself to the block and calls ``close()`` when it ends,
    whether it ended normally or by an exception (which goes on: nothing is swallowed)."""

    @abstractmethod
    def close(self) -> None:
        """Release what the simulator holds: its threads, ports and file descriptors."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
