"""``community sim card-reader``: arguments, roster files, and a run stopped as a user stops it."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import serial

from edge import modbus_rtu
from edge.em4100 import FrameParser
from firmware_sim.cli import main
from firmware_sim.roster import RosterError, load_roster
from tests.firmware_sim.support import wait_for

FAST = ["--interval", "0.02", "--hold", "0"]


def test_roster_file(tmp_path: Path) -> None:
    roster = tmp_path / "roster.txt"
    roster.write_text("# members of centre-01\n0102030405\n\n  aabbccddee  \n")
    assert load_roster(roster) == ["0102030405", "AABBCCDDEE"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0102030405\n01020304\n", r"roster.txt:2: '01020304' is not a card number"),
        ("0102030405\nhello world\n", r"roster.txt:2: 'hello world' is not a card number"),
        ("0102030405\n\n0102030405\n", r"roster.txt:3: card 0102030405 is already on line 1"),
        ("# nobody\n\n", r"roster.txt: the roster has no card numbers"),
    ],
)
def test_bad_roster_names_the_line(tmp_path: Path, text: str, message: str) -> None:
    roster = tmp_path / "roster.txt"
    roster.write_text(text)
    with pytest.raises(RosterError, match=message):
        load_roster(roster)


def test_bad_roster_is_a_clear_error_from_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.txt"
    roster.write_text("0102030405\nXYZ\n")
    link = tmp_path / "reader"
    assert main(["card-reader", "--link", str(link), "--roster", str(roster)]) == 2
    assert "roster.txt:2: 'XYZ' is not a card number" in capsys.readouterr().err
    assert not link.is_symlink()
    assert main(["card-reader", "--link", str(link), "--roster", str(tmp_path / "none")]) == 2
    assert "cannot read roster" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault-rate", "1.5"], "between 0 and 1"),
        (["--interval", "soon"], "not a number"),
        (["--count", "0"], "must be > 0"),
        (["--cards", "3", "--roster", "r.txt"], "not allowed with"),
    ],
)
def test_bad_arguments_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["card-reader", "--link", str(tmp_path / "reader"), *args])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_link_in_the_way_is_not_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "reader"
    link.write_text("precious")
    assert main(["card-reader", "--link", str(link), "--count", "1"]) == 1
    assert "not a symlink" in capsys.readouterr().err
    assert link.read_text() == "precious"


def test_counted_run_taps_roster_cards_through_the_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.txt"
    cards = ["0102030405", "AABBCCDDEE", "1234567890"]
    roster.write_text("\n".join(cards))
    link = tmp_path / "by-id" / "reader"
    codes: list[int] = []
    argv = ["card-reader", "--link", str(link), "--roster", str(roster), "--count", "40", *FAST]
    runner = threading.Thread(target=lambda: codes.append(main(argv)))
    runner.start()
    try:
        wait_for(link.is_symlink, what="the link")
        seen: list[str] = []
        parser = FrameParser()
        with serial.Serial(str(link), baudrate=9600, timeout=0.05) as agent:
            while len(seen) < 3 and runner.is_alive():
                seen += parser.feed(agent.read(64))
    finally:
        runner.join(10)
    assert codes == [0]
    assert len(seen) >= 3
    assert set(seen) <= set(cards)
    out = capsys.readouterr().out
    assert f"card reader on {link}" in out
    assert "seed" in out
    assert "stopped: 40 taps" in out
    assert not link.is_symlink()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_runs_until_interrupted_then_cleans_up(tmp_path: Path, sig: signal.Signals) -> None:
    link = tmp_path / "reader"
    # Python ignores SIGINT when started with it ignored (a background job of a script): the
    # child gets the ordinary Ctrl-C behaviour whatever runs the tests.
    code = (
        "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from firmware_sim.cli import main; "
        f"sys.exit(main(['card-reader', '--link', {str(link)!r}, '--cards', '5', "
        "'--interval', '0.05', '--fault-rate', '0.5', '--seed', '7']))"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            assert f"card reader on {link}" in first
            assert "seed 7" in proc.stdout.readline()
            assert link.is_symlink()
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    assert "stopped:" in out
    assert "Traceback" not in err
    assert not link.is_symlink()


def venue_process(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    code = (
        "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from firmware_sim.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    argv = ["venue", "--link-dir", str(tmp_path), "--venue", "venue-07", *args]
    return subprocess.Popen(
        [sys.executable, "-c", code, *argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_venue_runs_its_rhythm_and_takes_faults_from_stdin(tmp_path: Path) -> None:
    link = tmp_path / "venue-07-rs485"
    with venue_process(
        tmp_path,
        "--kind", "car_park", "--capacity", "30", "--start", "2026-11-24T09:00",
        "--acceleration", "3600", "--seed", "3", "--near-wrap", "5",
    ) as proc:  # fmt: skip
        try:
            assert proc.stdout is not None
            assert proc.stdin is not None
            first = proc.stdout.readline()
            assert f"venue venue-07 (car_park, capacity 30, open 07:00-21:00) on {link}" in first
            config = "".join(proc.stdout.readline() for _ in range(18))
            assert 'kind = "people_counter"' in config
            assert "bays = 30" in config
            assert f'kind = "sign"\nport = "{link}"\nunit_id = 3\ntype' in config
            with serial.Serial(str(link), timeout=0.5) as port:
                request = modbus_rtu.read_request(1, modbus_rtu.READ_INPUT_REGISTERS, 0, 6)
                port.write(request)
                regs = modbus_rtu.registers(modbus_rtu.decode_response(request, port.read(17)))
            assert regs[4] == 1  # first boot
            proc.stdin.write("power-loss\nstatus\nsilence 9\nfly\n")
            proc.stdin.flush()
            replies = [proc.stdout.readline() for _ in range(4)]
            assert "power lost" in replies[0]
            assert "boots 2" in replies[1]
            assert "sign dark 0/0" in replies[1]
            assert "error: no unit 9" in replies[2]
            assert "unknown command 'fly'" in replies[3]
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    assert "stopped: in" in out
    assert "Traceback" not in err
    assert not link.is_symlink()


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["--kind", "stadium"], "invalid choice", 2),
        (["--venue", "Venue 1"], "not a site id", 2),
        (["--opens", "7 am"], "not a time of day", 2),
        (["--opens", "22:00", "--closes", "06:00"], "opens before it closes", 2),
        (["--kind", "car_park", "--bays", "10"], "a bay for each place", 2),
    ],
)
def test_venue_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str, code: int
) -> None:
    argv = ["venue", "--link-dir", str(tmp_path), "--venue", "venue-01", *args]
    try:
        result = main(argv)
    except SystemExit as exit_info:
        result = int(str(exit_info.code))
    assert result == code
    assert message in capsys.readouterr().err
    assert not (tmp_path / "venue-01-rs485").exists()
