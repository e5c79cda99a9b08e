# ruff: noqa: T201 - a command-line program prints to its terminal
"""``community sim venue``: one venue's Modbus sensors and sign on a pty line, living its daily
rhythm.

Faults on demand come as lines on standard input (``help`` lists them), so a person at the
terminal, or a test through a pipe, can pull the power or make the line noisy while it runs.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import threading
import time
from dataclasses import replace
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from firmware_sim.cli import (
    PROGRESS_EVERY_S,
    _finite,
    _fraction,
    _interrupt_on_sigterm,
    _positive_int,
)
from firmware_sim.venue_scenario import CITY_TZ, VENUE_KINDS
from mqtt_contract.topics import is_valid_id

if TYPE_CHECKING:
    from firmware_sim.venue import VenueSim

COMMANDS = """commands (one per line on standard input):
  power-loss [SECONDS]   every device loses power (counters restart from 0, boot +1; the sign
                         goes dark until the edge writes it again)
  crc [N]                corrupt the next N responses (default 1)
  crc-rate F             corrupt each response with chance F (0 stops it)
  silence [UNIT]         a unit (or the whole line) stops answering
  speak [UNIT]           answer again
  unplug | replug       pull the cable / plug it back in
  status                 counts, occupancy and what crossed the line"""


ACCELERATION_HELP = (
    "simulated seconds per real second (default 1: the wall clock, the venue follows today's "
    "real hour). F > 1 is a time-lapse (60: a day in 24 minutes), and the edge stamps each "
    "reading with its own wall clock, so the hub sees F days of visits in each real day: "
    "today's curve, visits and the venue-sharing records grow F times too fast, and the "
    "simulated closing times no longer fall at the venue's real closing time"
)


def add_venue_parser(commands: Any) -> None:
    venue = commands.add_parser(
        "venue",
        help="a venue's people counter (and bay sensors) and sign speaking Modbus RTU",
        description="A venue's Modbus RTU sensors on a pty line, following the venue's daily "
        "rhythm on the wall clock (or a faster one, --acceleration) until Ctrl-C. "
        + COMMANDS.replace("\n", " "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    venue.add_argument(
        "--link-dir",
        type=Path,
        required=True,
        metavar="DIR",
        help="where the line's stable path DIR/{venue}-rs485 is made",
    )
    venue.add_argument("--venue", type=_site, required=True, metavar="SITE", help="e.g. venue-01")
    venue.add_argument("--kind", choices=VENUE_KINDS, default="sports_ground")
    venue.add_argument("--capacity", type=_positive_int, default=200, metavar="N")
    venue.add_argument(
        "--bays",
        type=int,
        metavar="N",
        help="bays on a bay-sensor bus (default: one per place at a car park, none elsewhere)",
    )
    venue.add_argument("--opens", type=_clock, default=clock_time(7), metavar="HH:MM")
    venue.add_argument("--closes", type=_clock, default=clock_time(21), metavar="HH:MM")
    venue.add_argument(
        "--acceleration",
        type=_finite,
        default=1.0,
        metavar="F",
        help=ACCELERATION_HELP,
    )
    venue.add_argument(
        "--start",
        type=datetime.fromisoformat,
        metavar="ISO",
        help="simulated start time (default now); local time if no offset is given",
    )
    venue.add_argument("--seed", type=int, metavar="S")
    venue.add_argument(
        "--near-wrap",
        type=_positive_int,
        metavar="N",
        help="start the counters N counts short of 2**32, so they wrap soon",
    )
    venue.add_argument("--crc-error-rate", type=_fraction, default=0.0, metavar="F")
    venue.add_argument(
        "--duration", type=_finite, metavar="SECONDS", help="stop after this long (default never)"
    )


def run_venue(args: argparse.Namespace) -> int:
    from firmware_sim.sim_loop import SimLoop  # noqa: PLC0415 - pymodbus loads only here
    from firmware_sim.venue import VenueSim, venue_spec  # noqa: PLC0415

    seed: int = args.seed if args.seed is not None else random.randrange(2**32)
    logging.getLogger("pymodbus").setLevel(logging.WARNING)
    try:
        spec = venue_spec(args.venue, args.kind, args.capacity, args.opens, args.closes)
        if args.bays is not None:
            spec = replace(spec, bays=args.bays)
        if 0 < spec.bays < spec.capacity:
            raise ValueError("a bay-sensor bus needs a bay for each place (--bays >= --capacity)")
        if args.acceleration <= 0:
            raise ValueError("--acceleration must be > 0")
    except ValueError as exc:
        print(f"community sim venue: {exc}", file=sys.stderr)
        return 2
    start: datetime | None = args.start
    if start is not None and start.tzinfo is None:
        start = start.replace(tzinfo=CITY_TZ)
    with SimLoop() as loop:
        try:
            venue = VenueSim(loop, spec, args.link_dir, seed=seed, near_wrap=args.near_wrap)
        except (OSError, ValueError) as exc:
            print(f"community sim venue: cannot make the line: {exc}", file=sys.stderr)
            return 1
        try:
            venue.line.crc_error_rate = args.crc_error_rate
            venue.start(acceleration=args.acceleration, start=start)
            print(
                f"venue {spec.site} ({spec.kind}, capacity {spec.capacity}, open "
                f"{spec.opens_at:%H:%M}-{spec.closes_at:%H:%M}) on {venue.link} "
                f"(now {venue.line.device}), x{args.acceleration:g}, seed {seed}",
                flush=True,
            )
            print("edge config:\n" + edge_devices_toml(venue.edge_devices()), flush=True)
            print("type 'help' for faults on demand; Ctrl-C to stop", flush=True)
            _serve(venue, args.duration)
        finally:
            venue.close()
    print(f"stopped: {status_line(venue)}", flush=True)
    return 0


def _serve(venue: VenueSim, duration: float | None) -> None:
    deadline = None if duration is None else time.monotonic() + duration
    try:
        with _interrupt_on_sigterm():
            # Only now: a command's reply may prompt a SIGTERM, which must find the handler.
            threading.Thread(target=_read_commands, args=(venue,), daemon=True).start()
            while deadline is None or time.monotonic() < deadline:
                wait = PROGRESS_EVERY_S
                if deadline is not None:
                    wait = min(wait, max(0.0, deadline - time.monotonic()))
                time.sleep(wait)
                print(status_line(venue), flush=True)
    except KeyboardInterrupt:
        pass


def _read_commands(venue: VenueSim) -> None:
    try:
        for line in sys.stdin:
            if line.strip():
                print(venue_command(venue, line), flush=True)
    except (OSError, ValueError):
        pass  # no usable standard input (closed, or captured): faults only from the options


def venue_command(venue: VenueSim, text: str) -> str:
    """Carry out one fault command; the reply says what happened (or what was wrong)."""
    words = text.split()
    name, rest = words[0].lower(), words[1:]
    try:
        if name == "power-loss":
            off_s = float(rest[0]) if rest else 0.0
            venue.power_loss(off_s)
            return f"power lost for {off_s:g} s: counters restart from 0"
        if name == "crc":
            n = int(rest[0]) if rest else 1
            venue.line.corrupt_next(n)
            return f"the next {n} response(s) will be corrupted"
        if name == "crc-rate":
            venue.line.crc_error_rate = float(rest[0])
            return f"each response corrupted with chance {venue.line.crc_error_rate:g}"
        if name in {"silence", "speak"}:
            unit = int(rest[0]) if rest else None
            (venue.line.silence if name == "silence" else venue.line.speak)(unit)
            who = f"unit {unit}" if unit is not None else "the line"
            return f"{who} {'silent' if name == 'silence' else 'answers again'}"
        if name == "unplug":
            venue.line.unplug()
            return f"unplugged: {venue.link} is gone"
        if name == "replug":
            venue.line.replug()
            return f"plugged in again: {venue.link} -> {venue.line.device}"
        if name == "status":
            return status_line(venue)
        if name == "help":
            return COMMANDS
    except (IndexError, ValueError) as exc:
        return f"error: {exc}"
    return f"unknown command {name!r}; {COMMANDS}"


def status_line(venue: VenueSim) -> str:
    c, s, line = venue.counter.state(), venue.scenario.stats, venue.line.stats()
    bays = f", bays {venue.bay_sensor.occupied}" if venue.bay_sensor else ""
    lamp, shown, capacity = venue.sign.shows()
    sign = f"sign {'FULL' if lamp else 'dark'} {shown}/{capacity}"
    return (
        f"in {c.count_in} out {c.count_out} boots {c.boots}: occupancy {venue.scenario.occupancy}"
        f"{bays}, turned away {s.turned_away}; {sign}; line: {line.requests} requests, "
        f"{line.dropped} unanswered, {line.corrupted} corrupted"
    )


def edge_devices_toml(devices: list[dict[str, Any]]) -> str:
    lines = []
    for device in devices:
        lines.append("[[devices]]")
        for key, value in device.items():
            lines.append(f'{key} = "{value}"' if isinstance(value, str) else f"{key} = {value}")
    return "\n".join(lines)


def _site(text: str) -> str:
    if not is_valid_id(text):
        raise argparse.ArgumentTypeError(f"not a site id (a-z 0-9 - _): {text!r}")
    return text


def _clock(text: str) -> clock_time:
    try:
        return clock_time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time of day HH:MM: {text!r}") from None
