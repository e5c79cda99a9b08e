"""The delivery benchmark measures what it claims: every tap is found and its milestones are in
causal order. Speed itself is never asserted here (see benchmarks/ and docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import _tap_latency
from benchmarks._report import percentile


def test_latency_matching_finds_every_tap_with_its_milestones_in_order(tmp_path: Path) -> None:
    result = _tap_latency.measure(tmp_path, taps=5, rate=10)

    assert result.matched == 5
    assert result.extra_rows == 0
    series = result.milestones_ms
    assert [len(series[name]) for name in _tap_latency.MILESTONES] == [5, 5, 5, 5]
    read, received, committed, receipted = (series[name] for name in _tap_latency.MILESTONES)
    for i in range(5):
        # Each step is caused by the one before it, whichever process stamped it.
        assert 0 <= read[i] <= received[i] <= committed[i]
        assert received[i] <= receipted[i]
    assert len(result.hop_ms) == 5
    assert all(ms > 0 for ms in result.hop_ms)
    assert result.hub_metrics["hub_events_committed_total"] >= 5
    assert {k: len(v) for k, v in result.receipt_path_ms.items()} == {
        "paho default": 5,
        "TCP_NODELAY": 5,
    }


def test_percentiles_are_nearest_rank() -> None:
    values = list(range(1, 301))  # 1..300
    assert percentile(values, 50) == 150
    assert percentile(values, 99) == 297  # the 3rd largest of 300
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
