"""The public routes' rate limit (hub.api.rate_limit): a burst, then the steady rate; each client
address and bucket apart; a flood of distinct addresses costs bounded memory."""

from __future__ import annotations

import pytest

from hub.api.rate_limit import Rate, RateLimiter
from hub.core.settings import HubSettings


class Clock:
    """Time the test moves by hand (the limiter reads a monotonic clock)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


RATE = Rate(per_minute=60, burst=3)


def test_a_burst_then_one_a_second() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    assert [limiter.take("public", "10.0.0.1", RATE) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("public", "10.0.0.1", RATE) == pytest.approx(1.0)
    clock.now += 0.5
    assert limiter.take("public", "10.0.0.1", RATE) == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.take("public", "10.0.0.1", RATE) == 0.0
    clock.now += 3600  # a quiet hour refills the burst, never more
    assert [limiter.take("public", "10.0.0.1", RATE) for _ in range(4)][-1] > 0


def test_clients_and_buckets_are_apart() -> None:
    limiter = RateLimiter(clock=Clock())
    for _ in range(3):
        limiter.take("public", "10.0.0.1", RATE)
    assert limiter.take("public", "10.0.0.1", RATE) > 0
    assert limiter.take("public", "10.0.0.2", RATE) == 0.0
    assert limiter.take("requests", "10.0.0.1", RATE) == 0.0


def test_a_flood_of_addresses_keeps_the_table_bounded() -> None:
    limiter = RateLimiter(max_clients=100, clock=Clock())
    for n in range(10_000):
        limiter.take("public", f"10.{n // 65536}.{n // 256 % 256}.{n % 256}", RATE)
    assert len(limiter) == 100
    # the oldest went first: the first address (one token spent) is back to a whole burst
    assert [limiter.take("public", "10.0.0.0", RATE) for _ in range(3)] == [0.0, 0.0, 0.0]


def test_the_settings_bound_the_rate() -> None:
    with pytest.raises(ValueError, match="public_rate_per_minute"):
        HubSettings(mode="demo", public_rate_per_minute=0)
    with pytest.raises(ValueError, match="public_rate_burst"):
        HubSettings(mode="demo", public_rate_burst=0)
