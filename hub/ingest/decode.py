"""Turn one MQTT message into one record, or a dead letter that says what is wrong with it.

The happy path costs one ``model_validate_json``; only a message that fails is looked at again,
step by step, so that its dead letter gets a precise reason.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ValidationError

from hub.core.settings import HubSettings
from hub.ingest.cards import ANY_CARD, CardPolicy
from hub.ingest.events import (
    DeadLetterKind,
    DeadLetterRecord,
    EventKey,
    EventRecord,
    HealthRecord,
    InboundMessage,
    Record,
    StatusRecord,
)
from mqtt_contract.models import (
    EVENT_MODELS,
    MAX_PAYLOAD_BYTES,
    AnyEvent,
    CheckinEvent,
    Health,
    Status,
)
from mqtt_contract.topics import CONTRACT_VERSION, Topic, TopicKind, parse_topic

log = logging.getLogger(__name__)

_MAX_REASON_ERRORS = 8
_MAX_SEQ = 2**63


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """How far a device time may be from the hub's clock when the message arrives.

    Outside it the time is wrong (a box that booted without its clock, a corrupt value, a clock
    far ahead) and the message becomes a ``clock`` dead letter instead of a record that sorts
    before or after everything else (and, ahead, holds back later heartbeats)."""

    max_age: timedelta
    max_future: timedelta

    @classmethod
    def of(cls, settings: HubSettings) -> TimeWindow:
        return cls(
            timedelta(days=settings.event_max_age_days),
            timedelta(seconds=settings.event_max_future_s),
        )

    def problem(
        self, name: str, at: datetime, received_at: datetime, *, old_is_wrong: bool = True
    ) -> str | None:
        """Why ``at`` is outside the window, or ``None``."""
        if at - received_at > self.max_future:
            return (
                f"{name} {at.isoformat()} is {_span(at - received_at)} ahead of the hub's "
                f"clock ({received_at.isoformat()}); at most {_span(self.max_future)} is "
                "allowed (HUB_EVENT_MAX_FUTURE_S)"
            )
        if old_is_wrong and received_at - at > self.max_age:
            return (
                f"{name} {at.isoformat()} is {_span(received_at - at)} before the hub's "
                f"clock ({received_at.isoformat()}); at most {_span(self.max_age)} is allowed "
                "(HUB_EVENT_MAX_AGE_DAYS)"
            )
        return None


def _span(delta: timedelta) -> str:
    """``301 s``, or ``400 days, 0:00:01``: exact enough to see which side of the bound."""
    if delta < timedelta(days=2):
        return f"{delta.total_seconds():g} s"
    return str(delta - timedelta(microseconds=delta.microseconds))


def decode(
    message: InboundMessage, window: TimeWindow | None = None, cards: CardPolicy = ANY_CARD
) -> Record:
    """Never raises: a bug met while decoding becomes a dead letter, logged with its traceback.

    ``window`` and ``cards`` are the running hub's policy (the worker passes them from its
    settings); without them only the contract's own range of times applies and only city card
    hashes are taken, as for records made from fixed test data."""
    try:
        return _decode(message, window, cards)
    except Exception as exc:
        log.exception("unexpected error decoding a message on %s", message.topic)
        return dead_letter(
            message, DeadLetterKind.INTERNAL, f"internal error while decoding: {exc!r}"
        )


def dead_letter(
    message: InboundMessage, kind: DeadLetterKind, reason: str, receipt: EventKey | None = None
) -> DeadLetterRecord:
    return DeadLetterRecord(
        topic=message.topic,
        payload=message.payload[:MAX_PAYLOAD_BYTES],
        size=len(message.payload),
        kind=kind,
        reason=printable(reason),
        received_at=message.received_at,
        receipt=receipt,
    )


_parse_topic = functools.lru_cache(maxsize=4096)(parse_topic)
"""A hub hears the same few hundred topics all day (``Topic`` is immutable; a topic that does not
parse raises every time)."""


def _decode(message: InboundMessage, window: TimeWindow | None, cards: CardPolicy) -> Record:
    size = len(message.payload)
    if size > MAX_PAYLOAD_BYTES:
        return dead_letter(
            message,
            DeadLetterKind.TOO_LARGE,
            f"payload of {size} bytes exceeds the limit of {MAX_PAYLOAD_BYTES} bytes; "
            f"only its first {MAX_PAYLOAD_BYTES} bytes are kept and it was not parsed",
        )
    try:
        topic = _parse_topic(message.topic)
    except ValueError as exc:
        return dead_letter(message, DeadLetterKind.TOPIC, str(exc))
    model: type[BaseModel]
    if topic.kind is TopicKind.EVENT and topic.event_kind is not None:
        if topic.event_kind not in EVENT_MODELS:
            return dead_letter(
                message,
                DeadLetterKind.TOPIC,
                f"event kind {topic.event_kind.value!r} is not supported by this hub",
            )
        model = EVENT_MODELS[topic.event_kind]
    elif topic.kind is TopicKind.STATUS:
        model = Status
    elif topic.kind is TopicKind.HEALTH:
        model = Health
    else:
        return dead_letter(
            message,
            DeadLetterKind.TOPIC,
            f"topic {message.topic!r} is a downlink topic (hub to edge), not an uplink message",
        )
    try:
        parsed = model.model_validate_json(message.payload)
    except ValidationError as exc:
        return _explain(message, topic, model, exc)
    return _checked(message, topic, parsed, window, cards)


def _checked(
    message: InboundMessage,
    topic: Topic,
    parsed: BaseModel,
    window: TimeWindow | None,
    cards: CardPolicy,
) -> Record:
    if isinstance(parsed, AnyEvent | Status | Health) and parsed.site != topic.site:
        return dead_letter(
            message,
            DeadLetterKind.MISMATCH,
            f"payload site {parsed.site!r} does not match the topic's site {topic.site!r}",
        )
    if isinstance(parsed, AnyEvent):
        key = EventKey(parsed.site, parsed.boot, parsed.seq)
        if parsed.device != topic.device:
            return dead_letter(
                message,
                DeadLetterKind.MISMATCH,
                f"payload device {parsed.device!r} does not match the topic's device "
                f"{topic.device!r}",
                receipt=key,
            )
        wrong = window.problem("ts", parsed.ts, message.received_at) if window else None
        if wrong:  # receipted: resending the same time cannot help
            return dead_letter(message, DeadLetterKind.CLOCK, wrong, receipt=key)
        if isinstance(parsed, CheckinEvent):
            opened = cards.opened(parsed)
            if isinstance(opened, str):  # receipted: the same seal never opens later
                return dead_letter(message, DeadLetterKind.CARD, opened, receipt=key)
            parsed = opened
        return EventRecord(parsed, message.received_at, message.topic, message.payload)
    if isinstance(parsed, Status):
        # ``since`` is not stored: the contract's range is all it needs
        return StatusRecord(parsed, message.received_at, message.retained)
    if isinstance(parsed, Health):
        wrong = _heartbeat_problem(parsed, window, message.received_at) if window else None
        if wrong:
            return dead_letter(message, DeadLetterKind.CLOCK, wrong)
        return HealthRecord(parsed, message.received_at)
    raise TypeError(f"no record for {type(parsed).__name__}")  # pragma: no cover


def _heartbeat_problem(health: Health, window: TimeWindow, received_at: datetime) -> str | None:
    wrong = window.problem("ts", health.ts, received_at)
    for device in health.devices:
        if wrong is None and device.last_frame_at is not None:
            # a device silent for long is news, not a wrong clock: only ahead is wrong
            wrong = window.problem(
                f"devices.{device.id}.last_frame_at",
                device.last_frame_at,
                received_at,
                old_is_wrong=False,
            )
    return wrong


def _explain(
    message: InboundMessage, topic: Topic, model: type[BaseModel], exc: ValidationError
) -> DeadLetterRecord:
    try:
        text = message.payload.decode("utf-8")
    except UnicodeDecodeError as err:
        return dead_letter(
            message,
            DeadLetterKind.NOT_UTF8,
            f"payload is not UTF-8: {err.reason} at byte {err.start}",
        )
    try:
        document: Any = json.loads(text)
    except ValueError as err:
        return dead_letter(message, DeadLetterKind.NOT_JSON, f"payload is not JSON: {err}")
    if not isinstance(document, dict):
        return dead_letter(
            message,
            DeadLetterKind.SCHEMA,
            f"payload is a JSON {type(document).__name__}, not an object",
        )
    receipt = envelope_key(document, topic.site)
    version = document.get("v", CONTRACT_VERSION)
    if version != CONTRACT_VERSION or isinstance(version, bool):
        return dead_letter(
            message,
            DeadLetterKind.VERSION,
            f"contract version {version!r} is not supported (this hub speaks v{CONTRACT_VERSION})",
            receipt=receipt,
        )
    return dead_letter(
        message,
        DeadLetterKind.SCHEMA,
        f"invalid {model.__name__}: {describe_errors(exc)}",
        receipt=receipt,
    )


def printable(text: str) -> str:
    """No NUL in a reason: PostgreSQL text refuses it, and field names come from the payload."""
    return text.replace("\x00", "\\x00")


def describe_errors(exc: ValidationError) -> str:
    """``field.path: message`` for each error, so the reason names the fields."""
    errors = exc.errors(include_url=False, include_input=False)
    parts = [
        f"{'.'.join(str(p) for p in err['loc']) or '(payload)'}: {err['msg']}"
        for err in errors[:_MAX_REASON_ERRORS]
    ]
    if len(errors) > _MAX_REASON_ERRORS:
        parts.append(f"and {len(errors) - _MAX_REASON_ERRORS} more")
    return "; ".join(parts)


def envelope_key(document: dict[str, Any], site: str) -> EventKey | None:
    """The site/boot/seq of a payload that failed validation, if it still names them sanely."""
    boot, seq = document.get("boot"), document.get("seq")
    if document.get("site") != site or not isinstance(boot, str):
        return None
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < _MAX_SEQ:
        return None
    try:
        return EventKey(site, UUID(boot), seq)
    except ValueError:
        return None
