"""The assessment benchmark runs and reports every step; its speed is not asserted here."""

from __future__ import annotations

import pytest

from benchmarks import assessment


def test_the_benchmark_measures_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    code = assessment.main(["--runs", "1", "--database", "sqlite"])
    out = capsys.readouterr().out
    for label in ("count(*)", "attendance rows", "build the assessment", "JSON", "CSV", "XLSX"):
        assert label in out
    assert "4800 members" in out
    assert code in {0, 1}  # 1 would mean over the target on this machine, not a broken script
    assert "ms target" in out
