"""Every topic of the system, built and parsed in one place.

Layout (all under ``yp/v1/``)::

    yp/v1/{site}/{device}/{kind}   events from an edge (kind: checkin, ...)
    yp/v1/{site}/status            the edge's retained status, also its last will
    yp/v1/{site}/health            the edge's heartbeats
    yp/v1/{site}/cmd/{command}     downlink to the edge (receipt, allowlist, alert, request)
    yp/v1/{site}/reply             the edge's answers to command requests

Events are subscribed to per kind (``yp/v1/+/+/checkin``) so that a downlink topic, which also has
three levels below the prefix, can never be taken for an event. Site and device ids are therefore
restricted to a safe alphabet and may not be one of the reserved words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

CONTRACT_VERSION: Final = 1
PREFIX: Final = f"yp/v{CONTRACT_VERSION}"

ID_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_ID_RE: Final = re.compile(ID_PATTERN)
RESERVED_IDS: Final = frozenset({"cmd", "status", "health", "reply"})


class EventKind(StrEnum):
    CHECKIN = "checkin"
    COUNTER = "counter"
    BAYS = "bays"


class Command(StrEnum):
    RECEIPT = "receipt"
    ALLOWLIST = "allowlist"
    ALERT = "alert"
    REQUEST = "request"  # mqtt_contract.commands.CommandRequest


class TopicKind(StrEnum):
    EVENT = "event"
    STATUS = "status"
    HEALTH = "health"
    COMMAND = "command"
    REPLY = "reply"


def is_valid_id(value: str) -> bool:
    """True for a site or device id that is safe as one topic level."""
    return bool(_ID_RE.match(value)) and value not in RESERVED_IDS


def _checked(value: str, what: str) -> str:
    if not is_valid_id(value):
        raise ValueError(
            f"invalid {what} id {value!r}: use a-z, 0-9, '-' or '_', "
            f"not one of {sorted(RESERVED_IDS)}"
        )
    return value


def event(site: str, device: str, kind: EventKind) -> str:
    return f"{PREFIX}/{_checked(site, 'site')}/{_checked(device, 'device')}/{kind.value}"


def status(site: str) -> str:
    return f"{PREFIX}/{_checked(site, 'site')}/status"


def health(site: str) -> str:
    return f"{PREFIX}/{_checked(site, 'site')}/health"


def reply(site: str) -> str:
    return f"{PREFIX}/{_checked(site, 'site')}/reply"


def command(site: str, name: Command) -> str:
    return f"{PREFIX}/{_checked(site, 'site')}/cmd/{name.value}"


def event_filters(shared_group: str | None = None) -> list[str]:
    """Subscription filters for every event kind, optionally as an MQTT 5 shared subscription."""
    filters = [f"{PREFIX}/+/+/{kind.value}" for kind in EventKind]
    return [_shared(f, shared_group) for f in filters]


def edge_state_filters(shared_group: str | None = None) -> list[str]:
    """Subscription filters for edge status and heartbeats."""
    return [_shared(f"{PREFIX}/+/{leaf}", shared_group) for leaf in ("status", "health")]


def reply_filter(shared_group: str | None = None) -> str:
    """What the hub subscribes to for every edge's command replies."""
    return _shared(f"{PREFIX}/+/reply", shared_group)


def command_filter(site: str) -> str:
    """What an edge subscribes to: every downlink for its own site."""
    return f"{PREFIX}/{_checked(site, 'site')}/cmd/#"


def _shared(topic_filter: str, group: str | None) -> str:
    return f"$share/{group}/{topic_filter}" if group else topic_filter


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed topic. ``device``/``kind`` are set for events, ``command`` for downlink."""

    kind: TopicKind
    site: str
    device: str | None = None
    event_kind: EventKind | None = None
    command: Command | None = None


def parse_topic(topic: str) -> Topic:
    """Parse a topic of the contract; raise ``ValueError`` naming what is wrong."""
    if not topic.startswith(PREFIX + "/"):
        raise ValueError(f"topic {topic!r} is not under {PREFIX}/")
    parts = topic[len(PREFIX) + 1 :].split("/")
    site = parts[0]
    if not is_valid_id(site):
        raise ValueError(f"topic {topic!r}: invalid site id {site!r}")
    if len(parts) == 2 and parts[1] == "status":
        return Topic(TopicKind.STATUS, site)
    if len(parts) == 2 and parts[1] == "health":
        return Topic(TopicKind.HEALTH, site)
    if len(parts) == 2 and parts[1] == "reply":
        return Topic(TopicKind.REPLY, site)
    if len(parts) == 3 and parts[1] == "cmd":
        try:
            return Topic(TopicKind.COMMAND, site, command=Command(parts[2]))
        except ValueError:
            raise ValueError(f"topic {topic!r}: unknown command {parts[2]!r}") from None
    if len(parts) == 3:
        device, kind = parts[1], parts[2]
        if not is_valid_id(device):
            raise ValueError(f"topic {topic!r}: invalid device id {device!r}")
        try:
            return Topic(TopicKind.EVENT, site, device=device, event_kind=EventKind(kind))
        except ValueError:
            raise ValueError(f"topic {topic!r}: unknown event kind {kind!r}") from None
    raise ValueError(f"topic {topic!r} does not match any topic of the contract")


# Broker ACL patterns. A broker account of an edge is named after its site, so the patterns are
# written with Mosquitto's username placeholder; a broker config substitutes the site.
SITE_PLACEHOLDER: Final = "%u"


def _site_level(site: str) -> str:
    return site if site == SITE_PLACEHOLDER else _checked(site, "site")


def edge_publish_patterns(site: str = SITE_PLACEHOLDER) -> tuple[str, ...]:
    """What an edge may publish: its events, one filter per kind, its status, heartbeats and
    command replies.

    The device level is ``+``, so ``yp/v1/{site}/cmd/{kind}`` (no topic of the contract: ``cmd``
    is a reserved id) matches too; :func:`edge_denied_publish_patterns` shuts it.
    """
    level = _site_level(site)
    return (
        *(f"{PREFIX}/{level}/+/{kind.value}" for kind in EventKind),
        f"{PREFIX}/{level}/status",
        f"{PREFIX}/{level}/health",
        f"{PREFIX}/{level}/reply",
    )


def edge_denied_publish_patterns(site: str = SITE_PLACEHOLDER) -> tuple[str, ...]:
    """Never published by an edge, whatever else allows it: the downlink is the hub's alone."""
    return (f"{PREFIX}/{_site_level(site)}/cmd/#",)


def edge_subscribe_patterns(site: str = SITE_PLACEHOLDER) -> tuple[str, ...]:
    """What an edge may read: its own site's downlink."""
    return (f"{PREFIX}/{_site_level(site)}/cmd/#",)


def edge_client_id(site: str) -> str:
    """The one MQTT client id an edge's account may connect with (the broker binds it)."""
    return f"edge-{_checked(site, 'site')}"
