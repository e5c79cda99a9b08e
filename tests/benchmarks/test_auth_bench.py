"""The auth benchmark runs and reports every row; its speed is not asserted here."""

from __future__ import annotations

import pytest

from benchmarks import auth


def test_the_benchmark_times_each_way_in(capsys: pytest.CaptureFixture[str]) -> None:
    assert auth.main(["--requests", "20", "--users", "10", "--database", "sqlite"]) == 0
    out = capsys.readouterr().out
    for label in ("no credentials", "with a token", "session cookie", "principal_for_token"):
        assert label in out
    assert "a token check adds" in out
