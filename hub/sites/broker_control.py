"""Change a running Mosquitto's accounts through its dynamic-security plugin (docs/sites.md).

The plugin takes JSON commands on ``$CONTROL/dynamic-security/v1`` from its admin account and
answers every one on ``.../response``, to every subscriber of that topic: each command carries a
``correlationData`` of its own and only the answers with ours count. A change is live at once, the
broker saves it to its config file, and nobody else's connection is touched; deleting an account
or changing its password disconnects that account's client (Mosquitto 2.0.11 kicks it, checked in
its ``plugins/dynamic-security/clients.c``), which then cannot connect again with what it had.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

from hub.broker.acl import BrokerAcl
from hub.broker.dynsec import CONTROL_TOPIC, RESPONSE_TOPIC, role_acls
from hub.core.settings import HubSettings
from hub.mqtt import HubConnection, InboundMessage, PublishError, Role, session_options
from mqtt_contract.topics import edge_client_id

NOT_FOUND = ("Client not found", "Role not found")


class BrokerControlError(Exception):
    """The broker could not be reached as its admin, or refused a command; says which and why."""


class DynsecControl:
    """One admin connection; use it as a context manager. ``timeout`` bounds each wait."""

    def __init__(self, settings: HubSettings, acl: BrokerAcl, *, timeout: float = 10.0) -> None:
        if settings.broker_admin_password is None:
            raise BrokerControlError(
                "changing the broker's accounts needs its admin account: set "
                "HUB_BROKER_ADMIN_PASSWORD (and HUB_BROKER_ADMIN_USERNAME if not "
                f"{settings.broker_admin_username!r}), or pass --no-broker and rebuild the "
                "broker's accounts with `community broker-config`"
            )
        self.acl = acl
        self.timeout = timeout
        self._where = f"{settings.mqtt_url} as {settings.broker_admin_username!r}"
        self._answers: dict[str, dict[str, Any]] = {}
        self._waiting: set[str] = set()  # answers to other admins' commands are not kept
        self._arrived = threading.Condition()
        self._connection = HubConnection(
            "broker-admin",
            session_options(settings, Role.BROKER_ADMIN),
            settings.broker,
            subscriptions=[RESPONSE_TOPIC],
            on_message=self._on_message,
        )

    def __enter__(self) -> DynsecControl:
        self._connection.start()
        deadline = time.monotonic() + self.timeout
        while not self._connection.wait_ready(0.05):
            if self._connection.refused is not None:
                self._connection.close()
                raise BrokerControlError(
                    f"the broker at {self._where} refused the admin login: "
                    f"{self._connection.refused} (check HUB_BROKER_ADMIN_PASSWORD)"
                )
            if time.monotonic() > deadline:
                self._connection.close()
                raise BrokerControlError(
                    f"could not connect to the broker at {self._where} and subscribe to "
                    f"{RESPONSE_TOPIC} within {self.timeout:g} s"
                )
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        # paho's network thread can log "Client is not connected" at ERROR once our own
        # DISCONNECT has closed the socket: noise on an operator's terminal, not a fault.
        logging.getLogger(f"hub.mqtt.connection.{self._connection.name}.paho").setLevel(
            logging.CRITICAL
        )
        self._connection.close()

    # Accounts of sites -------------------------------------------------------------------

    def add(self, site: str, password: str) -> None:
        """The site's role (the contract's edge ACLs with the site filled in) and its account,
        bound to the client id ``edge-<site>``. An account of that name already on the broker is
        an error: the registry and the broker disagree, and nothing is changed."""
        if self._exists(site):
            raise BrokerControlError(
                f"the broker already has an account {site!r} that the registry does not know; "
                "rebuild the broker's accounts from the registry (`community broker-config`) "
                "or delete it first"
            )
        self.run([{"command": "deleteRole", "rolename": site}], allow=NOT_FOUND)  # a leftover
        self.run(
            [
                {
                    "command": "createRole",
                    "rolename": site,
                    "acls": role_acls(self.acl.rules_for(site)),
                },
                {
                    "command": "createClient",
                    "username": site,
                    "password": password,
                    "clientid": edge_client_id(site),
                    "roles": [{"rolename": site}],
                },
            ]
        )

    def set_password(self, site: str, password: str) -> None:
        """The broker disconnects whoever is connected with the old password."""
        self.run([{"command": "setClientPassword", "username": site, "password": password}])

    def remove(self, site: str) -> None:
        """Delete the account (the broker disconnects its client) and its role; an account the
        broker no longer has is no error (Mosquitto 2.0.11 would not answer a ``deleteClient``
        for it, hence the ``getClient`` first)."""
        if self._exists(site):
            self.run([{"command": "deleteClient", "username": site}])
        self.run([{"command": "deleteRole", "rolename": site}], allow=NOT_FOUND)

    def _exists(self, username: str) -> bool:
        (answer,) = self.run([{"command": "getClient", "username": username}], allow=NOT_FOUND)
        return "error" not in answer

    # The protocol ------------------------------------------------------------------------

    def run(
        self, commands: Sequence[Mapping[str, Any]], *, allow: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Send the commands in one message and return their answers in order; an answer with
        an error not in ``allow`` raises :class:`BrokerControlError`."""
        ids = [uuid.uuid4().hex for _ in commands]
        with self._arrived:
            self._waiting.update(ids)
        body = {
            "commands": [{**c, "correlationData": i} for c, i in zip(commands, ids, strict=True)]
        }
        try:
            sent = self._connection.publish_and_wait(
                CONTROL_TOPIC, json.dumps(body).encode(), timeout=self.timeout
            )
        except PublishError as exc:
            raise BrokerControlError(
                f"could not send to the broker at {self._where}: {exc}"
            ) from exc
        if not sent:
            raise BrokerControlError(f"the broker at {self._where} did not take the command")
        try:
            answers = self._wait(commands, ids)
        finally:
            with self._arrived:
                self._waiting.difference_update(ids)
        for command, answer in zip(commands, answers, strict=True):
            error = answer.get("error")
            if error is not None and error not in allow:
                raise BrokerControlError(
                    f"the broker refused {command.get('command')} "
                    f"{command.get('username') or command.get('rolename') or ''}: {error}".rstrip()
                )
        return answers

    def _wait(self, commands: Sequence[Mapping[str, Any]], ids: list[str]) -> list[dict[str, Any]]:
        deadline = time.monotonic() + self.timeout
        with self._arrived:
            while not all(i in self._answers for i in ids):
                left = deadline - time.monotonic()
                if left <= 0:
                    names = ", ".join(str(c.get("command")) for c in commands)
                    raise BrokerControlError(
                        f"no answer to {names} from the broker at {self._where} within "
                        f"{self.timeout:g} s: is Mosquitto's dynamic-security plugin loaded, and "
                        f"may this account write {CONTROL_TOPIC}?"
                    )
                self._arrived.wait(left)
            return [self._answers.pop(i) for i in ids]

    def _on_message(self, message: InboundMessage) -> None:
        try:
            responses = json.loads(message.payload).get("responses", [])
        except (ValueError, AttributeError):
            return
        with self._arrived:
            for answer in responses:
                key = answer.get("correlationData") if isinstance(answer, dict) else None
                if key in self._waiting:
                    self._answers[key] = answer
            self._arrived.notify_all()
