"""Run amqtt inside this process: the demo's broker when no ``mosquitto`` binary is on PATH.

It has the same shape as :class:`demo.broker.mosquitto.MosquittoBroker` (accounts, the contract's
ACL, ``url``, ``start``, ``stop``) so the demo can take either. amqtt's asyncio broker runs on its
own event loop in a daemon thread, so synchronous callers (the CLI, paho-based tests) need no loop.

What amqtt 0.12 gives and what it does not (checked on this machine):

* MQTT 3.1.1 only; an MQTT 5 CONNECT hangs. Clients use ``SessionOptions(protocol="3.1.1")``.
* Persistent sessions (``clean_session=False``) queue QoS 1/2 messages while the client is away,
  but only for authenticated clients, which is all this broker admits. Queued messages arrive with
  the retain flag set, and a message that was sent but never acknowledged is not redelivered.
* Everything lives in memory: :meth:`EmbeddedBroker.stop` loses sessions and queued messages.
* Passwords: :class:`DynsecAuthPlugin` checks them against the hashes of the same
  dynamic-security document Mosquitto would get (PBKDF2-SHA512, as the site registry keeps them),
  so the demo can start it from the registry, where no password is kept. Anonymous clients are
  refused.
* ACL: amqtt's own ``TopicAccessControlListPlugin`` is not usable here: it has per-user publish
  lists, but with the current (non-deprecated) plugin config its subscribe list is only the
  deprecated ``acl`` key (left out, every subscription is refused; set, it raises a
  DeprecationWarning), receive lists are unreachable and there are no ``%u`` patterns. So
  :class:`ContractAclPlugin`, a small amqtt topic plugin, enforces the very dynamic-security
  config :class:`~demo.broker.mosquitto.MosquittoBroker` gives Mosquitto (built by
  :mod:`hub.broker.dynsec` from the contract's patterns): a publish needs a
  ``publishClientSend`` allow (a refused one is acknowledged and dropped, as Mosquitto does),
  each delivery a ``publishClientReceive`` allow. One difference: Mosquitto grants a
  subscription wider than the read rules and filters per message, but amqtt hands retained
  messages to a new subscription without any check, so here a filter must lie inside a
  ``subscribePattern`` or it gets SUBACK 0x80 (an edge may subscribe ``yp/v1/<site>/cmd/#``,
  not ``yp/v1/#``), which is also how Mosquitto's plugin decides a subscription.
* Client ids: :class:`DynsecAuthPlugin` also refuses an account's CONNECT with any client id but the one
  the config binds it to. That keeps an edge out of the hub's session, but it does not stop the
  take-over: amqtt disconnects a connected client with the same id *before* it authenticates the
  newcomer. Only Mosquitto stops that (it authenticates first), hence the demo prefers it.
* amqtt weakness: it acts on a CONNECT's session before it checks the password. A refused CONNECT
  with clean_session=True and someone's client id deletes that session, and the owner's next
  CONNECT then gets session_present=1 with no subscriptions and no queued messages. So clients
  should subscribe again on every CONNACK. Tolerable on 127.0.0.1 for a demo; delivery
  guarantees are proven against Mosquitto.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin

from demo.broker.mosquitto import free_port
from hub.broker.acl import BrokerAcl, contract_acl
from hub.broker.dynsec import DynsecPolicy, dynsec_config, hash_password, write_config
from hub.core.private_files import make_private_dir

log = logging.getLogger(__name__)

# amqtt logs every connection at INFO, and its state machines (the "transitions" library) every
# state change of the broker and of each session.
_CHATTY_LOGGERS = ("amqtt", "transitions")


class ContractAclPlugin(BaseTopicPlugin):  # type: ignore[misc]  # amqtt ships no type hints
    """amqtt topic plugin enforcing a dynamic-security config (see :class:`DynsecPolicy`)."""

    @dataclass
    class Config:
        policy_file: str = ""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.policy = DynsecPolicy.load(Path(self.config.policy_file))

    async def topic_filtering(
        self, *, session: Any = None, topic: str | None = None, action: Any = None
    ) -> bool:
        username = getattr(session, "username", None)
        if not username or not topic:
            return False
        if action == Action.PUBLISH:
            return self.policy.may_publish(username, topic)
        if action == Action.SUBSCRIBE:
            return self.policy.may_subscribe(username, topic)
        if action == Action.RECEIVE:  # implied by the subscribe check; kept as a second fence
            return self.policy.may_receive(username, topic)
        return False


class DynsecAuthPlugin(BaseAuthPlugin):  # type: ignore[misc]  # amqtt ships no type hints
    """amqtt auth plugin: the password checked against the config's hash, and an account bound
    to a client id connects with that id or not at all."""

    @dataclass
    class Config:
        policy_file: str = ""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.policy = DynsecPolicy.load(Path(self.config.policy_file))

    async def authenticate(self, *, session: Any) -> bool:
        username = getattr(session, "username", None)
        return self.policy.password_ok(
            username, getattr(session, "password", None)
        ) and self.policy.client_id_allowed(username, getattr(session, "client_id", None))


def _dotted(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class DynsecEmbedded:
    """amqtt on 127.0.0.1:``port`` in a daemon thread, its accounts a dynamic-security document
    (``dynsec``, as :class:`~demo.broker.mosquitto.DynsecMosquitto` takes it), kept in
    ``workdir``."""

    def __init__(
        self, workdir: Path, dynsec: Mapping[str, Any], *, port: int | None = None
    ) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        make_private_dir(workdir)
        self.policy_path = workdir / "dynamic-security.json"
        write_config(self.policy_path, dynsec)
        policy = {"policy_file": str(self.policy_path)}
        self.config: dict[str, Any] = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
            "plugins": {
                _dotted(DynsecAuthPlugin): policy,
                _dotted(ContractAclPlugin): policy,
            },
        }
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop_requested = threading.Event()
        self._wake: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self._error: Exception | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        """Start the broker thread; return once the listener is bound (it then accepts clients)."""
        if self._thread is not None:
            raise RuntimeError("the embedded broker is already running")
        for name in _CHATTY_LOGGERS:  # unless someone configured them or we are debugging
            chatty = logging.getLogger(name)
            if chatty.level == logging.NOTSET and not log.isEnabledFor(logging.DEBUG):
                chatty.setLevel(logging.WARNING)
        self._ready.clear()
        self._stop_requested.clear()
        self._wake = None
        self._error = None
        self._thread = threading.Thread(
            target=self._run, name=f"amqtt-broker-{self.port}", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise TimeoutError(f"amqtt did not listen on 127.0.0.1:{self.port} within {timeout} s")
        if self._error is not None:
            error = self._error
            self.stop()
            raise RuntimeError(
                f"the embedded amqtt broker could not start on 127.0.0.1:{self.port}: {error}"
            ) from error

    def stop(self, timeout: float = 10.0) -> None:
        """Shut amqtt down (closes client connections and the listener) and join its thread."""
        thread = self._thread
        if thread is None:
            return
        # Set the flag before looking for the loop; _serve registers the loop before it reads the
        # flag, so one of the two always sees the other.
        self._stop_requested.set()
        if (wake := self._wake) is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                wake[0].call_soon_threadsafe(wake[1].set)
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"the embedded amqtt broker did not stop within {timeout} s")
        self._thread = self._wake = None

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except Exception as exc:  # a failing thread would only print; tell start() or the log
            if self._ready.is_set():
                log.exception("the embedded amqtt broker failed")
            else:
                self._error = exc
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        wake = asyncio.Event()
        self._wake = (asyncio.get_running_loop(), wake)
        broker = Broker(self.config)  # binds to the running loop, so it is built here
        await broker.start()
        self._ready.set()
        try:
            if not self._stop_requested.is_set():
                await wake.wait()
        finally:
            await broker.shutdown()


class EmbeddedBroker(DynsecEmbedded):
    """amqtt with the given accounts (username to password). ``acl`` and ``client_ids`` are as
    for :class:`~demo.broker.mosquitto.MosquittoBroker`; by default
    :func:`~hub.broker.acl.contract_acl` (user ``hub`` gets the prefix, every other account is
    an edge whose username is its site id)."""

    def __init__(
        self,
        workdir: Path,
        accounts: Mapping[str, str],
        acl: BrokerAcl | None = None,
        *,
        client_ids: Mapping[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        hashes = {user: hash_password(password) for user, password in accounts.items()}
        config = dynsec_config(contract_acl() if acl is None else acl, hashes, client_ids)
        super().__init__(workdir, config, port=port)
