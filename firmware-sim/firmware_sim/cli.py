"""``community sim ...``: simulated devices behind pty serial ports, run until Ctrl-C.

Point an edge agent's device ``port`` at the ``--link`` path and it reads the simulator exactly as
it would read a reader on /dev/ttyUSB0.
"""

from __future__ import annotations

import argparse
import math
import random
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from firmware_sim import em4100
from firmware_sim.card_reader import CardReaderSim
from firmware_sim.roster import RosterError, load_roster
from firmware_sim.scenario import RosterScenario

PROGRESS_EVERY_S = 5.0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "card-reader":
        return _card_reader(args)
    if args.command == "venue":
        from firmware_sim.venue_cli import run_venue  # noqa: PLC0415 - pymodbus only when needed

        return run_venue(args)
    raise AssertionError(f"unhandled command {args.command!r}")  # pragma: no cover


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="community sim", description="Run simulated devices behind pty serial ports."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="DEVICE")
    reader = commands.add_parser(
        "card-reader",
        help="an EM4100 card reader tapped by a roster of members",
        description="An EM4100 card reader on a pty, tapped by a roster of members until Ctrl-C.",
    )
    reader.add_argument(
        "--link",
        type=Path,
        required=True,
        metavar="PATH",
        help="stable path of the port (a symlink to the pty), e.g. /tmp/serial/by-id/reader-1",
    )
    cards = reader.add_mutually_exclusive_group()
    cards.add_argument(
        "--cards",
        type=_positive_int,
        default=20,
        metavar="N",
        help="random roster of N cards (default 20)",
    )
    cards.add_argument(
        "--roster", type=Path, metavar="FILE", help="roster file: one card number per line"
    )
    reader.add_argument(
        "--interval",
        type=_non_negative_float,
        default=2.0,
        metavar="SECONDS",
        help="seconds between one card off and the next card on (default 2)",
    )
    reader.add_argument(
        "--hold",
        type=_non_negative_float,
        default=0.35,
        metavar="SECONDS",
        help="seconds each card is held on the reader (default 0.35)",
    )
    reader.add_argument(
        "--fault-rate",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="chance of a line fault between two taps, 0..1 (default 0)",
    )
    reader.add_argument(
        "--seed", type=int, metavar="S", help="seed for a replayable run (default: random)"
    )
    reader.add_argument(
        "--count",
        type=_positive_int,
        metavar="N",
        help="stop after N taps (default: run until Ctrl-C)",
    )
    from firmware_sim.venue_cli import add_venue_parser  # noqa: PLC0415

    add_venue_parser(commands)
    return parser


def _card_reader(args: argparse.Namespace) -> int:
    seed: int = args.seed if args.seed is not None else random.randrange(2**32)
    if args.roster is not None:
        try:
            cards = load_roster(args.roster)
        except RosterError as exc:
            print(f"community sim card-reader: {exc}", file=sys.stderr)
            return 2
    else:
        rng = random.Random(seed)
        cards = list(dict.fromkeys(em4100.random_card(rng) for _ in range(args.cards)))
    try:
        sim = CardReaderSim(args.link, seed=seed)
    except OSError as exc:
        print(f"community sim card-reader: cannot make {args.link}: {exc}", file=sys.stderr)
        return 1

    progress = _Progress(sim)
    scenario = RosterScenario(
        sim,
        cards,
        interval_s=args.interval,
        hold_s=args.hold,
        fault_rate=args.fault_rate,
        seed=seed,
        on_tap=progress.tapped,
    )
    try:
        with _interrupt_on_sigterm():
            print(f"card reader on {sim.link} (now {sim.port.device})", flush=True)
            print(
                f"{len(cards)} cards, interval {args.interval:g} s, hold {args.hold:g} s, "
                f"fault rate {args.fault_rate:g}, seed {seed}; "
                + (f"stopping after {args.count} taps" if args.count else "Ctrl-C to stop"),
                flush=True,
            )
            scenario.run(count=args.count, stop=None if args.count else threading.Event())
    except KeyboardInterrupt:
        pass
    finally:
        sim.close()
    print(f"stopped: {progress.line()}", flush=True)
    return 0


class _Progress:
    """A progress line now and then, not one per tap."""

    def __init__(self, sim: CardReaderSim) -> None:
        self._sim = sim
        self._last_print = float("-inf")

    def tapped(self, card: str) -> None:
        now = time.monotonic()
        if now - self._last_print >= PROGRESS_EVERY_S:
            self._last_print = now
            print(f"{self.line()} (last {card})", flush=True)

    def line(self) -> str:
        s = self._sim.stats()
        return f"{s.taps} taps, {s.taps_lost} lost (unplugged), {s.faults} faults"


@contextmanager
def _interrupt_on_sigterm() -> Iterator[None]:
    """Stop on SIGTERM as on Ctrl-C, so the stable path is removed either way."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def _non_negative_float(text: str) -> float:
    value = _finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value:g}")
    return value


def _fraction(text: str) -> float:
    value = _finite(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value:g}")
    return value


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a number: {text!r}")
    return value
