"""Who may read and write which topics on the broker, built from the contract's ACL patterns.

One :class:`BrokerAcl` is rendered for both brokers the hub can run (Mosquitto's dynamic-security
config, see :mod:`hub.broker.dynsec`; the embedded amqtt broker enforces that same config).
Privileged accounts (the hub, test publishers, the broker's admin) are named; every other account
is an edge whose username is its site id and gets the contract's edge patterns with the site
filled in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from mqtt_contract.topics import (
    PREFIX,
    SITE_PLACEHOLDER,
    edge_client_id,
    edge_denied_publish_patterns,
    edge_publish_patterns,
    edge_subscribe_patterns,
    is_valid_id,
)

DYNSEC_CONTROL_FILTER = "$CONTROL/dynamic-security/#"
"""The admin account's only topics: the plugin's control topic and its responses. Whoever may write
there can create accounts, so the admin is as powerful as the broker and belongs at the hub."""


@dataclass(frozen=True, slots=True)
class AclRule:
    """``read`` covers subscribing and receiving, ``write`` publishing. A rule with
    ``allow=False`` denies what it names and is checked before every allowing rule."""

    topic: str
    read: bool = False
    write: bool = False
    allow: bool = True


@dataclass(frozen=True, slots=True)
class BrokerAcl:
    privileged: Mapping[str, tuple[AclRule, ...]] = field(default_factory=dict)
    edge: tuple[AclRule, ...] = ()

    def rules_for(self, username: str) -> tuple[AclRule, ...]:
        """The rules of one account; a username that is no valid site id gets no edge rules."""
        if username in self.privileged:
            return self.privileged[username]
        if not is_valid_id(username):
            return ()
        return tuple(
            replace(r, topic=r.topic.replace(SITE_PLACEHOLDER, username)) for r in self.edge
        )


def contract_acl(
    hub_users: Iterable[str] = ("hub",),
    publishers: Iterable[str] = (),
    admins: Iterable[str] = (),
) -> BrokerAcl:
    """Hub users and publishers (test accounts) read and write the whole prefix; admins (the
    account ``community site`` drives the dynamic-security plugin with) only its control topic,
    none of the contract's; an edge publishes only its own site's events, status and heartbeats,
    never under ``cmd/``, and reads only its own downlink."""
    everything = (AclRule(f"{PREFIX}/#", read=True, write=True),)
    control = (AclRule(DYNSEC_CONTROL_FILTER, read=True, write=True),)
    edge = (
        *(AclRule(t, write=True, allow=False) for t in edge_denied_publish_patterns()),
        *(AclRule(t, write=True) for t in edge_publish_patterns()),
        *(AclRule(t, read=True) for t in edge_subscribe_patterns()),
    )
    privileged = {u: everything for u in (*hub_users, *publishers)}
    for admin in admins:
        if admin in privileged:
            raise ValueError(f"{admin!r} cannot be both the broker admin and a hub account")
        privileged[admin] = control
    return BrokerAcl(privileged=privileged, edge=edge)


def edge_client_ids(acl: BrokerAcl, usernames: Iterable[str]) -> dict[str, str]:
    """Every edge account (not privileged) bound to the contract's client id for its site."""
    return {u: edge_client_id(u) for u in usernames if u not in acl.privileged and is_valid_id(u)}


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT matching of a concrete topic against a filter (``a/#`` also matches ``a``)."""
    levels = topic.split("/")
    for index, level in enumerate(topic_filter.split("/")):
        if level == "#":
            return True
        if index >= len(levels) or level not in ("+", levels[index]):
            return False
    return len(topic_filter.split("/")) == len(levels)


def filter_within(topic_filter: str, allowed: str) -> bool:
    """True if every topic ``topic_filter`` can match is also matched by ``allowed``."""
    levels = topic_filter.split("/")
    for index, level in enumerate(allowed.split("/")):
        if level == "#":
            return True
        if index >= len(levels) or levels[index] == "#":
            return False
        if level != "+" and levels[index] != level:
            return False
    return len(levels) == len(allowed.split("/"))
