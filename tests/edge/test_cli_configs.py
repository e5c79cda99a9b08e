"""``community edge`` with several configs: one process, each site with its own outbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.cli import main


def config(tmp_path: Path, name: str, site: str, outbox: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'site = "{site}"\nmode = "demo"\nsite_card_key = "0123456789abcdef0123"\n'
        f'hub_card_public_key = "7/LxDwJf29tIPFzSlzdM0FGeZWnyUnBcUDjJ43IHaBw="\n'
        f'outbox_path = "{tmp_path / outbox}"\n'
        f'[[devices]]\nid = "gate-1"\nkind = "people_counter"\nport = "/dev/null-x"\nunit_id = 1\n'
    )
    return path


@pytest.mark.parametrize(
    ("second", "message"),
    [
        (("venue-01", "other.db"), "each config needs its own site and outbox_path"),
        (("venue-02", "a.db"), "each config needs its own site and outbox_path"),
    ],
)
def test_configs_that_would_share_a_site_or_outbox_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], second: tuple[str, str], message: str
) -> None:
    a = config(tmp_path, "a", "venue-01", "a.db")
    b = config(tmp_path, "b", *second)
    assert main(["--config", str(a), "--config", str(b)]) == 2
    assert message in capsys.readouterr().err


def test_a_bad_second_config_names_its_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = config(tmp_path, "a", "venue-01", "a.db")
    assert main(["--config", str(a), "--config", str(tmp_path / "missing.toml")]) == 2
    assert "missing.toml: no such file" in capsys.readouterr().err
