"""Creating commands and recording what became of them: the rules, whoever calls (the API, tests).

A command is created ``queued``; the dispatcher (``hub.commands.dispatcher``) publishes it and
marks it ``sent`` when the broker has it, records the edge's reply (``done``/``failed``), and
expires what has no reply by its deadline. A final state never changes again: a late reply to an
expired command is logged, not recorded.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.commands.models import EdgeCommand
from hub.ingest.models import Site
from mqtt_contract.commands import (
    CONFIG_KEYS,
    FINAL_STATES,
    MAX_ARGS_BYTES,
    CommandReply,
    CommandRequest,
    Operation,
)
from mqtt_contract.topics import is_valid_id

DEFAULT_DEADLINE_S = 600
MAX_DEADLINE_S = 7 * 86_400
MIN_DEADLINE_S = 5
ALERT_STATES = ("raised", "cleared")
OPEN_STATES = ("queued", "sent")
OPEN_LIMIT = 5_000
"""Open commands looked at per round: beyond it the oldest wait for the next round."""


class CommandError(ValueError):
    """The command cannot be created; the message says why, naming the field."""


def check_args(op: Operation, args: dict[str, Any]) -> None:
    """What each operation takes; the edge checks a config in full, the hub what it can."""
    if op in {Operation.PING, Operation.RESTART, Operation.ALLOWLIST_RESEND}:
        if args:
            raise CommandError(f"args: {op} takes no arguments")
        return
    if op is Operation.CONFIG:
        _check_config(args)
        return
    _check_alert(args)


def _check_config(args: dict[str, Any]) -> None:
    if not args:
        raise CommandError(f"args: config needs at least one of {', '.join(sorted(CONFIG_KEYS))}")
    refused = sorted(set(args) - CONFIG_KEYS)
    if refused:
        raise CommandError(
            f"args: {', '.join(refused)} cannot be changed by a command "
            f"(only {', '.join(sorted(CONFIG_KEYS))})"
        )
    for key in ("heartbeat_interval_s", "resend_after_s", "retention_s", "inflight_window"):
        value = args.get(key)
        if key in args and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise CommandError(f"args.{key}: a number")
    if "devices" in args and (
        not isinstance(args["devices"], list)
        or not args["devices"]
        or not all(isinstance(d, dict) for d in args["devices"])
    ):
        raise CommandError("args.devices: a non-empty list of device objects")


def _check_alert(args: dict[str, Any]) -> None:
    """What the venue's sign shows (``edge.sign``): the lamp, and the figures beside it."""
    extra = sorted(set(args) - {"state", "occupancy", "capacity"})
    if extra:
        raise CommandError(
            f"args: alert takes state, occupancy and capacity, not {', '.join(extra)}"
        )
    if args.get("state") not in ALERT_STATES:
        raise CommandError(f"args.state: one of {', '.join(ALERT_STATES)}")
    for key, least in (("occupancy", 0), ("capacity", 1)):
        value = args.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not least <= value < 2**31:
            raise CommandError(f"args.{key}: a whole number from {least} to {2**31 - 1}")


def create_command(
    session: Session,
    *,
    site: str,
    op: Operation,
    args: dict[str, Any],
    deadline_s: int = DEFAULT_DEADLINE_S,
    requested_by: str | None = None,
) -> EdgeCommand:
    """A ``queued`` command (flushed, not committed); the caller has checked that the site may
    be commanded (``hub.sites``)."""
    if not is_valid_id(site):
        raise CommandError(f"site: {site!r} is not a site id")
    if not MIN_DEADLINE_S <= deadline_s <= MAX_DEADLINE_S:
        raise CommandError(f"deadline_s: {MIN_DEADLINE_S} to {MAX_DEADLINE_S} seconds")
    check_args(op, args)
    now = datetime.now(UTC)
    command = EdgeCommand(
        id=uuid.uuid4(),
        site_id=site,
        op=op.value,
        args=args,
        state="queued",
        requested_by=requested_by,
        attempts=0,
        created_at=now,
        deadline=now + timedelta(seconds=deadline_s),
    )
    try:  # the contract's own bounds (args size) before anything is stored
        request_for(command)
    except ValueError as exc:
        raise CommandError(f"args: larger than {MAX_ARGS_BYTES} bytes as JSON") from exc
    session.add(command)
    session.flush()
    return command


def request_for(command: EdgeCommand) -> CommandRequest:
    return CommandRequest(
        site=command.site_id,
        id=command.id,
        op=Operation(command.op),
        args=command.args,
        issued_at=_aware(command.created_at),
        deadline=_aware(command.deadline),
    )


def due_commands(session: Session, now: datetime, limit: int = 100) -> list[EdgeCommand]:
    """Queued commands, and sent ones still unanswered that should go again: their site came
    back (a status after the send) or the backoff since the last send has passed; oldest first."""
    rows = session.scalars(
        select(EdgeCommand)
        .where(EdgeCommand.state.in_(OPEN_STATES), EdgeCommand.deadline > now)
        .order_by(EdgeCommand.created_at)
        .limit(OPEN_LIMIT)
    ).all()
    return [c for c in rows if c.state == "queued" or _resend_due(session, c, now)][:limit]


def _resend_due(session: Session, command: EdgeCommand, now: datetime) -> bool:
    if command.sent_at is None:
        return True
    sent_at = _aware(command.sent_at)
    site = session.get(Site, command.site_id)
    came_back = (
        site is not None
        and site.state == "online"
        and site.state_at is not None
        and _aware(site.state_at) > sent_at
    )
    if came_back:
        return True
    return now - sent_at >= resend_backoff(command.attempts)


def resend_backoff(attempts: int) -> timedelta:
    """1 min after the first send, doubling, at most an hour: the broker's persistent session
    queues for an edge that is away, so this only covers a lost session."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


def mark_sent(session: Session, command_id: uuid.UUID, now: datetime) -> None:
    session.execute(
        update(EdgeCommand)
        .where(EdgeCommand.id == command_id, EdgeCommand.state.in_(OPEN_STATES))
        .values(state="sent", sent_at=now, attempts=EdgeCommand.attempts + 1)
    )


def expire_overdue(session: Session, now: datetime) -> int:
    """Open commands past their deadline become ``expired``; return how many."""
    result = session.execute(
        update(EdgeCommand)
        .where(EdgeCommand.state.in_(OPEN_STATES), EdgeCommand.deadline <= now)
        .values(state="expired", reason="no answer by the deadline", finished_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


ReplyVerdict = str
"""``recorded``, or why a reply changed nothing: ``unknown``, ``wrong_site``, ``late``."""


def record_reply(session: Session, topic_site: str, reply: CommandReply) -> ReplyVerdict:
    """Record an edge's answer, if it is for a command of that edge still open."""
    if reply.site != topic_site:
        return "wrong_site"
    command = session.get(EdgeCommand, reply.id)
    if command is None:
        return "unknown"
    if command.site_id != topic_site:
        return "wrong_site"
    if command.state in FINAL_STATES:
        return "late"
    command.state = reply.outcome.value
    command.reason = reply.reason
    command.result = dict(reply.result)
    command.finished_at = datetime.now(UTC)
    return "recorded"


def _aware(value: datetime) -> datetime:
    """SQLite gives back naive times (UTC as stored)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
