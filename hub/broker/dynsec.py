"""Mosquitto's dynamic-security config for the contract's accounts, and a reader that enforces it.

Why the dynamic-security plugin and not ``password_file`` + ``acl_file``: only the plugin can bind
an account to a client id (a client with a ``clientid`` must connect with exactly that id, or its
CONNECT is refused before it can take over anyone's session), and only it has a deny that is
limited to publishing (an ``acl_file`` deny also takes away reading). Mosquitto 2.0's plugin has
no ``%u`` in its ACLs, so every account gets its own role with its site filled in.

The config file is written whole before the broker starts, from the site registry
(``community broker-config``; ``hub.sites.broker_config``) or, for the compose file, from a
``mosquitto_passwd`` file (``python -m hub.broker.dynsec``). While the broker runs, ``community
site`` changes its accounts live through the plugin's control topic (:data:`CONTROL_TOPIC`, see
``hub.sites.broker_control``) as the broker's admin account, whose only right is that topic: no
reload, no dropped clients. The plugin saves each change to the same file.

Edges (every account that is not privileged) are bound to the contract's
:func:`~mqtt_contract.topics.edge_client_id` when asked (``client_ids``); privileged accounts stay unbound because the hub runs
several clients under one account (its ingest workers, each with its own id, and the allowlist
publisher). They are trusted: the party to fence in is an edge whose password was stolen.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.broker.acl import (
    AclRule,
    BrokerAcl,
    contract_acl,
    edge_client_ids,
    filter_within,
    topic_matches,
)
from hub.core.private_files import make_private_dir, write_private

# What mosquitto_passwd and ``mosquitto_ctrl dynsec`` write: PBKDF2-SHA512, 12 bytes of salt, a
# 64-byte digest, 101 iterations. The plugin reads the iteration count from the file.
ITERATIONS = 101
_SALT_BYTES = 12
_DIGEST_BYTES = 64

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = f"{CONTROL_TOPIC}/response"
"""Where the plugin answers every command (to every subscriber: match ``correlationData``)."""

SEND, RECEIVE = "publishClientSend", "publishClientReceive"
SUBSCRIBE_PATTERN, SUBSCRIBE_LITERAL = "subscribePattern", "subscribeLiteral"
# Nothing is allowed unless a role says so; unsubscribing never hurts.
DEFAULT_ACCESS = {SEND: False, RECEIVE: False, "subscribe": False, "unsubscribe": True}
_DENY_PRIORITY = 10  # higher runs first: a deny beats every allow of the same account


@dataclass(frozen=True, slots=True)
class PasswordHash:
    salt: bytes
    digest: bytes
    iterations: int = ITERATIONS


def hash_password(password: str, iterations: int = ITERATIONS) -> PasswordHash:
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return PasswordHash(salt, digest, iterations)


def verify_password(password: str, stored: PasswordHash) -> bool:
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), stored.salt, stored.iterations)
    return secrets.compare_digest(digest, stored.digest)


def format_hash(stored: PasswordHash) -> str:
    """The ``$7$iterations$salt$digest`` form mosquitto_passwd writes (and the site registry keeps)."""
    salt = base64.b64encode(stored.salt).decode()
    digest = base64.b64encode(stored.digest).decode()
    return f"$7${stored.iterations}${salt}${digest}"


def parse_hash(encoded: str) -> PasswordHash:
    """A ``$7$`` (PBKDF2-SHA512) hash; ``ValueError`` saying what is wrong with it."""
    parts = encoded.split("$")
    if len(parts) != 5 or parts[0] or parts[1] != "7":
        raise ValueError(
            "not a '$7$' (PBKDF2-SHA512) entry; write it with mosquitto_passwd 2.0 or later"
        )
    try:
        salt = base64.b64decode(parts[3], validate=True)
        digest = base64.b64decode(parts[4], validate=True)
        iterations = int(parts[2])
    except ValueError as exc:
        raise ValueError(f"malformed hash: {exc}") from None
    if len(salt) != _SALT_BYTES or len(digest) != _DIGEST_BYTES or iterations < 1:
        raise ValueError("malformed hash")
    return PasswordHash(salt, digest, iterations)


def parse_passwd(text: str) -> dict[str, PasswordHash]:
    """A ``mosquitto_passwd`` file (``user:$7$iterations$salt$digest`` lines) as hashes."""
    accounts: dict[str, PasswordHash] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        username, _, encoded = line.partition(":")
        try:
            stored = parse_hash(encoded)
        except ValueError as exc:
            raise ValueError(f"password file line {number} ({username!r}): {exc}") from None
        if username in accounts:
            raise ValueError(f"password file line {number}: {username!r} appears twice")
        accounts[username] = stored
    return accounts


def role_acls(rules: Sequence[AclRule]) -> list[dict[str, Any]]:
    """A role's ACLs in the plugin's form: what the config file holds and ``createRole`` takes."""
    acls: list[dict[str, Any]] = []
    for rule in rules:
        priority = 0 if rule.allow else _DENY_PRIORITY
        kinds: list[tuple[str, str]] = []
        if rule.write:
            kinds.append((SEND, rule.topic))
        if rule.read:
            # A shared subscription ($share/GROUP/FILTER) reaches the plugin whole; a `$` topic
            # (the control topic) is never shared.
            kinds += [
                (SUBSCRIBE_PATTERN, rule.topic),
                *(
                    [(SUBSCRIBE_PATTERN, f"$share/+/{rule.topic}")]
                    if not rule.topic.startswith("$")
                    else []
                ),
                (RECEIVE, rule.topic),
            ]
        acls += [
            {"acltype": kind, "topic": topic, "priority": priority, "allow": rule.allow}
            for kind, topic in kinds
        ]
    return acls


def dynsec_config(
    acl: BrokerAcl,
    accounts: Mapping[str, PasswordHash],
    client_ids: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The plugin's JSON document: one client and one role (named after it) per account."""
    client_ids = client_ids or {}
    if unknown := sorted(set(client_ids) - set(accounts)):
        raise ValueError(f"client ids given for unknown accounts: {unknown}")
    clients, roles = [], []
    for username, stored in accounts.items():
        rules = acl.rules_for(username)
        if not rules:
            raise ValueError(
                f"account {username!r} would have no rights: name it as a privileged account "
                "or use a valid site id as the username"
            )
        client: dict[str, Any] = {
            "username": username,
            "password": base64.b64encode(stored.digest).decode(),
            "salt": base64.b64encode(stored.salt).decode(),
            "iterations": stored.iterations,
            "roles": [{"rolename": username}],
        }
        if username in client_ids:
            client["clientid"] = client_ids[username]
        clients.append(client)
        roles.append({"rolename": username, "acls": role_acls(rules)})
    return {
        "clients": clients,
        "groups": [],
        "roles": roles,
        "defaultACLAccess": dict(DEFAULT_ACCESS),
    }


def write_config(path: Path, config: Mapping[str, Any]) -> None:
    """Write atomically, readable by the owner only from the start (it holds password hashes)."""
    write_private(make_private_dir(path.parent) / path.name, json.dumps(config, indent=1) + "\n")


class DynsecPolicy:
    """What a dynamic-security config allows, evaluated as the Mosquitto 2.0 plugin does:
    a client's roles, each role's ACLs highest priority first, the first matching ACL decides,
    else the default access. Used by the embedded broker; a check against real Mosquitto in the
    tests keeps the two in step."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._roles: dict[str, list[dict[str, Any]]] = {
            role["rolename"]: sorted(role.get("acls", ()), key=lambda a: -a.get("priority", 0))
            for role in config.get("roles", ())
        }
        self._clients: dict[str, dict[str, Any]] = {
            client["username"]: client for client in config.get("clients", ())
        }
        self._default: dict[str, bool] = {**DEFAULT_ACCESS, **config.get("defaultACLAccess", {})}

    @classmethod
    def load(cls, path: Path) -> DynsecPolicy:
        return cls(json.loads(path.read_text()))

    def password_ok(self, username: str | None, password: str | None) -> bool:
        """The account's password, checked against the config's hash as the plugin does."""
        client = self._clients.get(username or "")
        if client is None or password is None or "password" not in client:
            return False
        stored = PasswordHash(
            base64.b64decode(client["salt"]),
            base64.b64decode(client["password"]),
            int(client["iterations"]),
        )
        return verify_password(password, stored)

    def client_id_allowed(self, username: str | None, client_id: str | None) -> bool:
        client = self._clients.get(username or "")
        if client is None:
            return False
        bound = client.get("clientid")
        return bound is None or bound == client_id

    def _decide(self, username: str, kinds: Sequence[str], default: str, topic: str) -> bool:
        client = self._clients.get(username)
        if client is None:
            return False
        for role in client.get("roles", ()):
            for acl in self._roles.get(role["rolename"], ()):
                if acl["acltype"] not in kinds:
                    continue
                if acl["acltype"] == SUBSCRIBE_LITERAL:
                    matched = acl["topic"] == topic
                elif acl["acltype"] == SUBSCRIBE_PATTERN:
                    matched = filter_within(topic, acl["topic"])
                else:
                    matched = topic_matches(acl["topic"], topic)
                if matched:
                    return bool(acl.get("allow", False))
        return self._default[default]

    def may_publish(self, username: str, topic: str) -> bool:
        return self._decide(username, (SEND,), SEND, topic)

    def may_receive(self, username: str, topic: str) -> bool:
        return self._decide(username, (RECEIVE,), RECEIVE, topic)

    def may_subscribe(self, username: str, topic_filter: str) -> bool:
        kinds = (SUBSCRIBE_LITERAL, SUBSCRIBE_PATTERN)
        return self._decide(username, kinds, "subscribe", topic_filter)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hub.broker.dynsec``: the compose file's broker accounts from its password file."""
    parser = argparse.ArgumentParser(
        prog="python -m hub.broker.dynsec",
        description="Write Mosquitto's dynamic-security config for the contract from a "
        "mosquitto_passwd file: the hub accounts read and write everything, every other "
        "account is an edge named after its site, bound to the client id edge-<site>.",
    )
    parser.add_argument("--passwd", type=Path, required=True, help="a mosquitto_passwd file")
    parser.add_argument("--out", type=Path, required=True, help="the plugin's config file")
    parser.add_argument(
        "--hub-user", action="append", default=[], help="a hub account (repeatable; default hub)"
    )
    args = parser.parse_args(argv)
    acl = contract_acl(hub_users=args.hub_user or ["hub"])
    try:
        accounts = parse_passwd(args.passwd.read_text())
        config = dynsec_config(acl, accounts, edge_client_ids(acl, list(accounts)))
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"hub.broker.dynsec: {exc}\n")
        return 1
    write_config(args.out, config)
    bound = sum("clientid" in c for c in config["clients"])
    sys.stdout.write(f"hub.broker.dynsec: {len(accounts)} accounts ({bound} edges) in {args.out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
