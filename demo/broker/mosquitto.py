"""Run a private Mosquitto with its own config, accounts and ACL.

The demo uses it when a ``mosquitto`` binary is on PATH; the tests use it to get a broker they can
restart and kill. Accounts and ACL go to Mosquitto's dynamic-security plugin (see
:mod:`hub.broker.dynsec` for why), in the contract's least-privilege layout: the hub reads and
writes everything under the prefix, an edge's username is its site id, it may publish only its own
site's events, status and heartbeats, never a downlink, and read only its own downlink; an account
given a client id (``client_ids``; the demo binds every edge) cannot connect with any other.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hub.broker.acl import BrokerAcl, contract_acl
from hub.broker.dynsec import dynsec_config, hash_password, write_config
from hub.broker.mosquitto_conf import dynsec_plugin, mosquitto_conf
from hub.broker.tls import BrokerCertificates, tls_listener_lines
from hub.core.private_files import make_private_dir, open_private_append, write_private

__all__ = [
    "DynsecMosquitto",
    "MosquittoBroker",
    "MosquittoProcess",
    "contract_acl",
    "dynsec_plugin",
    "free_port",
    "mosquitto_binary",
    "private_process_lines",
]

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.access(p, os.X_OK)),
        None,
    )


class MosquittoProcess:
    """Mosquitto on ``port`` with the given config text; config and log live in ``workdir``."""

    def __init__(self, workdir: Path, config: str, port: int) -> None:
        binary = mosquitto_binary()
        if binary is None:
            raise RuntimeError("mosquitto is not installed (Debian: apt-get install mosquitto)")
        self.binary = binary
        self.workdir = workdir
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        make_private_dir(workdir)  # its persistence file holds every queued message
        self.config_path = workdir / "mosquitto.conf"
        write_private(self.config_path, config)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        log_path = self.workdir / "mosquitto.log"
        log_file = open_private_append(log_path)
        log_start = log_file.tell()
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.config_path)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log_file.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"mosquitto exited with {self.process.returncode}: "
                    + log_path.read_text(errors="replace")[-2000:]
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.02)
        else:
            self.kill()
            raise TimeoutError(f"mosquitto did not listen on port {self.port} within {timeout} s")
        # The plugin reports an unreadable config and Mosquitto runs on without any account;
        # it does so before it opens the listener, so the line is there by now.
        with log_path.open("rb") as written:
            written.seek(log_start)
            errors = [
                line
                for line in written.read().decode(errors="replace").splitlines()
                if "Dynamic security" in line and "Error" in line
            ]
        if errors:
            self.kill()
            raise RuntimeError(f"mosquitto could not load its accounts: {errors[0]}")

    def stop(self) -> None:
        """Stop cleanly (Mosquitto saves its persistence file on SIGTERM)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """kill -9: whatever was not yet autosaved is gone."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class DynsecMosquitto(MosquittoProcess):
    """A private Mosquitto on 127.0.0.1:``port`` whose accounts are a dynamic-security document
    (``dynsec``): the demo's is built from the site registry (``hub.sites.broker_config``)."""

    def __init__(
        self,
        workdir: Path,
        dynsec: Mapping[str, Any],
        *,
        port: int | None = None,
        autosave_interval: int = 1,
        max_inflight_messages: int = 20,
        first_lines: Sequence[str] = (),
    ) -> None:
        plugin = dynsec_plugin()
        if plugin is None:
            raise RuntimeError(
                "Mosquitto's dynamic-security plugin (mosquitto_dynamic_security.so) is missing; "
                "Debian's mosquitto package (2.0 or later) ships it"
            )
        port = port or free_port()
        self.dynsec_path = workdir / "dynamic-security.json"
        write_config(self.dynsec_path, dynsec)
        config = mosquitto_conf(
            listener=f"{port} 127.0.0.1",
            plugin=plugin,
            dynsec_file=self.dynsec_path,
            persistence_dir=workdir,
            extra=[
                f"autosave_interval {autosave_interval}",
                f"max_inflight_messages {max_inflight_messages}",
                "set_tcp_nodelay true",
                "max_queued_messages 100000",
                *private_process_lines(),
            ],
        )
        super().__init__(workdir, "\n".join([*first_lines, config]), port)


class MosquittoBroker(DynsecMosquitto):
    """A private Mosquitto on 127.0.0.1:``port`` with the hub's accounts and ACL.

    ``accounts`` maps usernames to passwords, ``acl`` says what each may do (usually
    :func:`contract_acl`), ``client_ids`` binds accounts to the one client id they may use.
    With ``tls`` (certificates from :func:`hub.broker.tls.ensure_certificates` naming
    ``localhost``) it also listens with TLS on 127.0.0.1:``tls_port`` (:attr:`tls_url`), with
    the same accounts; the plain listener stays, on loopback.
    """

    def __init__(
        self,
        workdir: Path,
        accounts: Mapping[str, str],
        acl: BrokerAcl,
        *,
        client_ids: Mapping[str, str] | None = None,
        port: int | None = None,
        autosave_interval: int = 1,
        max_inflight_messages: int = 20,
        tls: BrokerCertificates | None = None,
        tls_port: int | None = None,
    ) -> None:
        hashes = {user: hash_password(password) for user, password in accounts.items()}
        self.tls_port = (tls_port or free_port()) if tls else None
        super().__init__(
            workdir,
            dynsec_config(acl, hashes, client_ids),
            port=port,
            autosave_interval=autosave_interval,
            max_inflight_messages=max_inflight_messages,
            # TLS first: a listener whose certificates cannot be loaded stops Mosquitto before
            # the plain port opens, so start() sees the exit instead of a half-working broker
            first_lines=(
                tls_listener_lines(tls, self.tls_port, "127.0.0.1") if tls and self.tls_port else ()
            ),
        )

    @property
    def tls_url(self) -> str:
        """``mqtts://localhost:PORT``: the name the test certificates carry."""
        if self.tls_port is None:
            raise RuntimeError("this broker has no TLS listener (pass tls=...)")
        return f"mqtts://localhost:{self.tls_port}"


def private_process_lines() -> list[str]:
    """Config lines for a Mosquitto run by this user, logging errors and warnings to stderr."""
    return [
        # Mosquitto started as root drops to user "mosquitto", which could not read these files;
        # a private broker runs as whoever starts it.
        f"user {pwd.getpwuid(os.geteuid()).pw_name}",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "",
    ]
