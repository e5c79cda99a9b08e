"""Per-client rate limits for the routes anyone may call (the public venue pages, a resident's
service request): a token bucket per client address and bucket name, kept in memory.

The client address is the one uvicorn gives the request, which behind the proxy is the proxy's
``X-Forwarded-For`` only when ``HUB_FORWARDED_ALLOW_IPS`` trusts the proxy (docs/deployment.md).
Buckets are per process: with N API processes a client gets at most N times the rate, which is
still a bound. The table holds at most ``max_clients`` addresses; past that the least recently
seen go first, so a flood of distinct addresses costs bounded memory, not the hub.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, HTTPException, Request, status

from hub.core.settings import HubSettings

DEFAULT_MAX_CLIENTS = 10_000


@dataclass(frozen=True)
class Rate:
    per_minute: float
    """Requests a minute a client may keep up."""
    burst: int
    """Requests a client may make at once after a quiet spell."""


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Token buckets keyed by (bucket name, client address); thread-safe."""

    def __init__(
        self,
        *,
        max_clients: int = DEFAULT_MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._buckets: OrderedDict[tuple[str, str], _Bucket] = OrderedDict()
        self._max_clients = max_clients
        self._clock = clock
        self._lock = threading.Lock()

    def take(self, name: str, client: str, rate: Rate) -> float:
        """Spend one token: 0.0 when the request may go on, else the seconds until it may."""
        now = self._clock()
        refill = rate.per_minute / 60.0
        with self._lock:
            key = (name, client)
            bucket = self._buckets.pop(key, None)
            if bucket is None:
                bucket = _Bucket(tokens=float(rate.burst), at=now)
            bucket.tokens = min(float(rate.burst), bucket.tokens + (now - bucket.at) * refill)
            bucket.at = now
            self._buckets[key] = bucket  # most recently seen last
            while len(self._buckets) > self._max_clients:
                self._buckets.popitem(last=False)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / refill if refill > 0 else math.inf

    def __len__(self) -> int:
        return len(self._buckets)


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def rate_limited(name: str, rate_of: Callable[[HubSettings], Rate]) -> Any:
    """A dependency (``dependencies=[rate_limited(...)]``) that answers 429 with ``Retry-After``
    once the client has spent its bucket; ``rate_of`` picks the rate from the app's settings."""

    def check(request: Request) -> None:
        limiter: RateLimiter = request.app.state.rate_limiter
        wait = limiter.take(name, client_address(request), rate_of(request.app.state.settings))
        if wait > 0:
            retry_after = str(max(1, math.ceil(min(wait, 3600.0))))
            raise HTTPException(
                status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                detail=f"too many requests: try again in {retry_after} s",
                headers={"Retry-After": retry_after},
            )

    return Depends(check)
