"""``community edge install``: a box set up from a real site bundle, into a tmp root.

The unit is checked by ``systemd-analyze verify``, the service user by ``systemd-sysusers`` in the
tmp root, and the udev rules by udev's own parser (``udevadm test``, in a private mount namespace
where the tmp root's rules directory is bind-mounted over /etc/udev/rules.d: this udevadm, 252,
has no ``udevadm verify``). Each check is shown to fail on a broken file too.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from edge import install_cli
from edge.box_files import UNIT_PATH
from edge.cli import main
from edge.config import load_settings
from edge.install import HIDDEN_FROM_THE_SERVICE
from firmware_sim.pty_port import PtyPort
from hub.broker.tls import ensure_certificates
from hub.core.settings import HubSettings
from hub.sites.bundle import write_bundle
from hub.sites.models import SiteAccount
from hub.sites.service import Credentials
from tests.hub.support import CARD_KEYS


def _visible_executable() -> str:
    """An ExecStart for the units the tests write: this environment's ``community``, unless the
    checkout lives where the service could not see it (a CI clone under /tmp or /root: the
    install refuses those, rightly); then the system's python3 stands in, as ``systemd-analyze
    verify`` checks only that ExecStart names an executable the service can reach."""
    ours = str(Path(sys.executable).parent / "community")
    if not any(ours.startswith(hidden + "/") for hidden in HIDDEN_FROM_THE_SERVICE):
        return ours
    stand_in = shutil.which("python3", path="/usr/bin:/bin")
    assert stand_in is not None, "python3 is missing from /usr/bin and /bin"
    return stand_in


COMMUNITY = _visible_executable()
PASSWORD = "the-site-password-0123456789"
LINE = "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0"
DEVICES = [
    {"id": "reader-1", "kind": "card_reader", "port": "/dev/serial/by-id/usb-FTDI_A10K3X9Q"},
    {"id": "gate-1", "kind": "people_counter", "port": LINE, "unit_id": 1},
    {"id": "sign-1", "kind": "sign", "port": LINE, "unit_id": 2},
]
USB = ["--usb", "reader-1=0403:6001:A10K3X9Q", "--usb", "sign-1=1A86:7523:5A7B0C21"]


def make_bundle(out: Path, devices: list[dict[str, Any]], site: str = "venue-01") -> Path:
    """A bundle as `community site bundle` writes it, with the broker's CA."""
    certs = ensure_certificates(out.parent / f"{out.name}-certs", ["mqtt.example"])
    settings = HubSettings(
        mode="demo", mqtt_url="mqtts://mqtt.example:8883", mqtt_ca_file=certs.ca_cert
    )
    row = SiteAccount(site_id=site, kind="venue", venue_id=site, devices=devices)
    credentials = Credentials(site, PASSWORD, 1)
    write_bundle(out, row, credentials, settings, CARD_KEYS, install_dir=Path("/srv/bundle"))
    return out


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bundle(tmp_path_factory.mktemp("hub") / "venue-01", DEVICES)


@pytest.fixture(scope="module")
def installed(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("box")
    code = main(["install", str(bundle), "--root", str(root), "--exec", COMMUNITY, *USB])
    assert code == 0
    return root


def under(root: Path, path: object) -> Path:
    return root / str(path).lstrip("/")


def test_the_installed_config_runs_from_the_stable_names(bundle: Path, installed: Path) -> None:
    config_dir = installed / "etc" / "community-edge"
    assert config_dir.stat().st_mode & 0o777 == 0o700
    for name in ("edge.toml", "ca.crt"):
        assert (config_dir / name).stat().st_mode & 0o777 == 0o600
        assert (config_dir / name).stat().st_uid == 0
    assert (config_dir / "ca.crt").read_bytes() == (bundle / "ca.crt").read_bytes()
    settings = load_settings(config_dir / "edge.toml")  # as the service reads it
    assert settings.site == "venue-01"
    assert settings.mqtt.password is not None
    assert settings.mqtt.password.get_secret_value() == PASSWORD
    assert settings.mqtt.ca_file == config_dir / "ca.crt"  # beside it, wherever systemd puts it
    assert str(settings.outbox_path) == "/var/lib/community-edge/outbox.db"
    assert {d.id: d.port for d in settings.devices} == {
        "reader-1": "/dev/community/reader-1",
        "gate-1": "/dev/community/gate-1",  # the line's adapter, named after its first device
        "sign-1": "/dev/community/gate-1",
    }
    bundled = tomllib.loads((bundle / "edge.toml").read_text())
    assert settings.site_card_key.get_secret_value() == bundled["site_card_key"]


def test_the_udev_rules_name_each_adapter_and_udev_parses_them(installed: Path) -> None:
    rules = under(installed, "/etc/udev/rules.d/70-community-edge.rules")
    assert rules.stat().st_mode & 0o777 == 0o644
    body = [line for line in rules.read_text().splitlines() if not line.startswith("#")]
    assert body == [
        'SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001", '
        'ATTRS{serial}=="A10K3X9Q", SYMLINK+="community/reader-1", GROUP="dialout", MODE="0660"',
        'SUBSYSTEM=="tty", ATTRS{idVendor}=="1a86", ATTRS{idProduct}=="7523", '
        'ATTRS{serial}=="5A7B0C21", SYMLINK+="community/gate-1", GROUP="dialout", MODE="0660"',
    ]
    assert udev_complaints(rules.parent) == []

    broken = installed / "broken-rules"
    broken.mkdir()
    (broken / "70-community-edge.rules").write_text(
        body[0].replace("SUBSYSTEM==", "SUBSYSTEM=") + "\n" + 'ATTRS{serial}=="A" FOO="x"\n'
    )
    assert len(udev_complaints(broken)) == 2, "udev's parser does not complain: nothing checked"


def udev_complaints(rules_dir: Path) -> list[str]:
    """What udev's rules parser says about ``rules_dir``'s files, read as /etc/udev/rules.d in a
    mount namespace of their own (nothing on this machine changes)."""
    script = (
        f'mount --bind "{rules_dir}" /etc/udev/rules.d && '
        "udevadm test --action=add /sys/class/tty/tty0 2>&1"
    )
    done = subprocess.run(
        ["unshare", "--mount", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ours = [line for line in done.stdout.splitlines() if "/etc/udev/rules.d/" in line]
    assert any(line.startswith("Reading rules file: /etc/udev/rules.d/70-") for line in ours), (
        done.stdout[-2000:]
    )
    return [line for line in ours if not line.startswith("Reading rules file:")]


def test_systemd_analyze_verifies_the_unit(installed: Path) -> None:
    unit = under(installed, UNIT_PATH)
    assert unit.stat().st_mode & 0o777 == 0o644
    text = unit.read_text()
    for line in (
        "Type=notify",
        "WatchdogSec=60s",
        "Restart=always",
        f"ExecStart={COMMUNITY} edge --config ${{CREDENTIALS_DIRECTORY}}/edge.toml",
        "LoadCredential=edge.toml:/etc/community-edge/edge.toml",
        "LoadCredential=ca.crt:/etc/community-edge/ca.crt",
        "User=community-edge",
        "SupplementaryGroups=dialout",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/community-edge",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=",
    ):
        assert line in text.splitlines(), line
    # The user need not exist for verify (it says nothing about it); any other complaint fails.
    assert systemd_verify(unit) == ""

    bad = installed / "bad" / "community-edge.service"
    bad.parent.mkdir()
    bad.write_text(text.replace("NoNewPrivileges=yes", "NoNewPrivileges=perhaps\nFooBar=1"))
    complaints = systemd_verify(bad)
    assert "Failed to parse boolean value, ignoring: perhaps" in complaints, complaints
    assert "Unknown key 'FooBar'" in complaints, complaints


def systemd_verify(unit: Path) -> str:
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return (done.stdout + done.stderr).strip() + ("" if done.returncode == 0 else " (failed)")


def test_systemd_sysusers_makes_the_service_user_in_dialout(installed: Path) -> None:
    etc = installed / "etc"
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (etc / "group").write_text("root:x:0:\ndialout:x:20:\n")  # as on Debian
    done = subprocess.run(
        [
            "systemd-sysusers",
            f"--root={installed}",
            str(under(installed, "/etc/sysusers.d/community-edge.conf")),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    users = {
        line.split(":")[0]: line.split(":") for line in (etc / "passwd").read_text().splitlines()
    }
    assert users["community-edge"][5] == "/var/lib/community-edge"
    assert users["community-edge"][6].endswith("nologin")
    groups = {
        line.split(":")[0]: line.split(":") for line in (etc / "group").read_text().splitlines()
    }
    assert groups["dialout"][2] == "20"
    assert groups["dialout"][3] == "community-edge"


def test_the_next_steps_are_printed(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["install", str(bundle), "--root", str(tmp_path), "--exec", COMMUNITY]) == 0
    out, err = capsys.readouterr()
    for command in (
        "systemd-sysusers /etc/sysusers.d/community-edge.conf",
        "udevadm control --reload",
        "systemctl daemon-reload",
        "systemctl enable --now community-edge.service",
        "journalctl -u community-edge",
    ):
        assert command in out
    # No USB identity and no adapter here: the bundle's ports stay, and the technician is told.
    assert "reader-1: no USB identity given" in err
    assert "gate-1, sign-1: no USB identity given" in err
    config = load_settings(tmp_path / "etc" / "community-edge" / "edge.toml")
    assert config.devices[0].port == DEVICES[0]["port"]
    assert (
        "\n# reader-1"
        not in under(tmp_path, "/etc/udev/rules.d/70-community-edge.rules").read_text()
    )


def test_a_port_present_here_that_is_no_usb_adapter_keeps_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with PtyPort(tmp_path / "ttyREADER") as pty:
        device = str(pty.device)
        bundle = make_bundle(
            tmp_path / "b", [{"id": "reader-1", "kind": "card_reader", "port": device}]
        )
        root = tmp_path / "root"
        root.mkdir()
        assert main(["install", str(bundle), "--root", str(root), "--exec", COMMUNITY]) == 0
    assert f"{device} is no USB adapter plugged into this box" in capsys.readouterr().err
    config = load_settings(root / "etc" / "community-edge" / "edge.toml")
    assert config.devices[0].port == device  # udevadm found no USB identity for a pty


def test_installing_another_sites_bundle_over_a_box_is_refused(
    installed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = make_bundle(tmp_path / "other", DEVICES[:1], site="venue-02")
    before = under(installed, "/etc/community-edge/edge.toml").read_text()
    assert main(["install", str(other), "--root", str(installed), "--exec", COMMUNITY]) == 2
    assert "this box runs site venue-01, not venue-02" in capsys.readouterr().err
    assert under(installed, "/etc/community-edge/edge.toml").read_text() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--usb", "reader-1=403:6001:A1"], "USB vendor id '403' is not 4 hex digits"),
        (["--usb", "reader-1=0403:60g1:A1"], "USB product id '60g1' is not 4 hex digits"),
        (["--usb", "reader-1=0403:6001:A1:B2"], "expected VID:PID:SERIAL"),
        (["--usb", "reader-1"], "expected DEVICE_ID=VID:PID:SERIAL"),
        (["--usb", 'reader-1=0403:6001:A1"'], "only letters, digits and . _ + -"),
        (["--usb", "reader-1=0403:6001:A1\nRUN+=x"], "only letters, digits and . _ + -"),
        (["--usb", "reader-1=0403:6001:A*"], "only letters, digits and . _ + -"),
        (["--usb", "reader-1=0403:6001:A 1"], "only letters, digits and . _ + -"),
        (["--usb", "reader-1=0403:6001:" + "A" * 65], "only letters, digits and . _ + -"),
        (["--usb", "reader-1=0403:6001:"], "only letters, digits and . _ + -"),
        (["--usb", "../etc=0403:6001:A1"], "'../etc' is not a device id"),
        (["--usb", "reader-1\n=0403:6001:A1"], "is not a device id"),
        (["--usb", "gate-9=0403:6001:A1"], "--usb gate-9: no such device in the bundle"),
        (
            ["--usb", "reader-1=0403:6001:A1", "--usb", "reader-1=0403:6001:A2"],
            "--usb reader-1 is given twice",
        ),
        (
            ["--usb", "gate-1=1a86:7523:X1", "--usb", "sign-1=1a86:7523:X1"],
            "gate-1 and sign-1 share one line",
        ),
        (
            ["--usb", "reader-1=1a86:7523:X1", "--usb", "gate-1=1a86:7523:X1"],
            "would match one adapter",
        ),
        (
            ["--usb", "reader-1=1a86:7523", "--usb", "gate-1=1a86:7523:X1"],
            "would match one adapter",
        ),
        (["--exec", "/home/tech/venv/bin/community"], "is under /home, which the service cannot"),
        (["--exec", "/opt/x/bin/community;rm"], "an absolute path of letters"),
        (["--exec", "relative/community"], "an absolute path of letters"),
        (["--exec", "/opt/nowhere/bin/community"], "is not an executable file"),
    ],
)
def test_hostile_or_wrong_options_are_refused_and_nothing_is_written(
    bundle: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    exe = [] if "--exec" in args else ["--exec", COMMUNITY]
    assert main(["install", str(bundle), "--root", str(tmp_path), *exe, *args]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_missing_or_broken_bundle_is_refused(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "root"
    root.mkdir()

    def install(path: Path) -> str:
        assert main(["install", str(path), "--root", str(root), "--exec", COMMUNITY]) == 2
        assert list(root.iterdir()) == []
        return capsys.readouterr().err

    assert "no such bundle directory" in install(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    assert "is not a site bundle: it has no edge.toml" in install(tmp_path / "empty")

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "edge.toml").write_text("site = \n")
    assert "not valid TOML" in install(broken)

    no_ca = tmp_path / "no-ca"
    no_ca.mkdir()
    (no_ca / "edge.toml").write_bytes((bundle / "edge.toml").read_bytes())
    assert "names a CA file (/srv/bundle/ca.crt) but the bundle has no ca.crt" in install(no_ca)

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "ca.crt").write_bytes((bundle / "ca.crt").read_bytes())
    text = (bundle / "edge.toml").read_text().replace('"production"', '"producton"')
    (bad / "edge.toml").write_text(text)
    assert f"{bad / 'edge.toml'}: mode: Input should be 'demo' or 'production'" in install(bad)


def test_without_root_it_needs_root_and_says_so(
    bundle: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A technician's own account (this machine's Python lives in /root, out of another user's
    # reach, so the uid is what changes, not the process's user).
    monkeypatch.setattr(install_cli.os, "geteuid", lambda: 1000)
    assert main(["install", str(bundle), "--exec", COMMUNITY]) == 2
    assert "needs root: run it with sudo, or give --root DIR" in capsys.readouterr().err


def test_a_replaced_reader_and_a_new_bundle_keep_the_other_adapters_names(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "box"
    root.mkdir()
    assert main(["install", str(bundle), "--root", str(root), "--exec", COMMUNITY, *USB]) == 0
    rules = under(root, "/etc/udev/rules.d/70-community-edge.rules")
    gate = [line for line in rules.read_text().splitlines() if "community/gate-1" in line]

    # The reader is swapped for another one: the installed config is a bundle of its own.
    installed = str(root / "etc" / "community-edge")
    new_reader = ["--usb", "reader-1=0403:6015:DN05XYZ1"]
    assert main(["install", installed, "--root", str(root), "--exec", COMMUNITY, *new_reader]) == 0
    text = rules.read_text()
    assert (
        'ATTRS{idProduct}=="6015", ATTRS{serial}=="DN05XYZ1", SYMLINK+="community/reader-1"' in text
    )
    assert "A10K3X9Q" not in text
    assert [line for line in text.splitlines() if "community/gate-1" in line] == gate
    settings = load_settings(root / "etc" / "community-edge" / "edge.toml")
    assert [d.port for d in settings.devices] == ["/dev/community/reader-1"] + 2 * [
        "/dev/community/gate-1"
    ]

    # A new bundle (new password) with no --usb: every adapter keeps its name.
    capsys.readouterr()
    assert main(["install", str(bundle), "--root", str(root), "--exec", COMMUNITY]) == 0
    assert rules.read_text() == text
    assert "no USB identity given" not in capsys.readouterr().err
