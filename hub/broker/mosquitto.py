"""Run a private Mosquitto with its own config, accounts and ACL.

The demo uses it when a ``mosquitto`` binary is on PATH; the tests use it to get a broker they can
restart and kill. Accounts follow the contract's least-privilege layout: the hub reads and writes
everything under the prefix, an edge's username is its site id and it may publish only its own
site's events, status and heartbeats and read only its own downlink.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from mqtt_contract.topics import PREFIX

log = logging.getLogger(__name__)

_PBKDF2_ITERATIONS = 101  # what mosquitto_passwd writes for "$7$" (PBKDF2-SHA512) entries


def password_line(username: str, password: str) -> str:
    """One line of a Mosquitto 2 password file, as ``mosquitto_passwd`` would write it."""
    salt = secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _PBKDF2_ITERATIONS)
    encoded = f"$7${_PBKDF2_ITERATIONS}${base64.b64encode(salt).decode()}"
    return f"{username}:{encoded}${base64.b64encode(digest).decode()}"


def contract_acl(hub_users: Iterable[str] = ("hub",), publishers: Iterable[str] = ()) -> str:
    """ACL: hub users get the whole prefix, publishers may write and read any topic of it, edges
    (username = site id) get only their own site."""
    lines = []
    for user in hub_users:
        lines += [f"user {user}", f"topic readwrite {PREFIX}/#", ""]
    for user in publishers:
        lines += [f"user {user}", f"topic readwrite {PREFIX}/#", ""]
    lines += [
        f"pattern write {PREFIX}/%u/+/+",
        f"pattern write {PREFIX}/%u/status",
        f"pattern write {PREFIX}/%u/health",
        f"pattern read {PREFIX}/%u/cmd/#",
        "",
    ]
    return "\n".join(lines)


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


class MosquittoBroker:
    """A Mosquitto process on 127.0.0.1:``port`` whose files live in ``workdir``."""

    def __init__(
        self,
        workdir: Path,
        accounts: Mapping[str, str],
        acl: str,
        *,
        port: int | None = None,
        autosave_interval: int = 1,
        max_inflight_messages: int = 20,
    ) -> None:
        binary = mosquitto_binary()
        if binary is None:
            raise RuntimeError("mosquitto is not installed (Debian: apt-get install mosquitto)")
        self.binary = binary
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        passwd = "".join(password_line(user, pw) + "\n" for user, pw in accounts.items())
        (workdir / "passwd").write_text(passwd)
        (workdir / "acl").write_text(acl)
        (workdir / "passwd").chmod(0o600)
        (workdir / "acl").chmod(0o600)
        self.config_path = workdir / "mosquitto.conf"
        self.config_path.write_text(
            "\n".join(
                [
                    f"listener {self.port} 127.0.0.1",
                    "allow_anonymous false",
                    f"password_file {workdir / 'passwd'}",
                    f"acl_file {workdir / 'acl'}",
                    "persistence true",
                    f"persistence_location {workdir}/",
                    f"autosave_interval {autosave_interval}",
                    f"max_inflight_messages {max_inflight_messages}",
                    "set_tcp_nodelay true",
                    "max_queued_messages 100000",
                    # Mosquitto started as root drops to user "mosquitto", which could not read
                    # these files; a private broker runs as whoever starts it.
                    f"user {pwd.getpwuid(os.geteuid()).pw_name}",
                    "log_dest stderr",
                    "log_type error",
                    "log_type warning",
                    "",
                ]
            )
        )

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        log_file = (self.workdir / "mosquitto.log").open("ab")
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
                    + (self.workdir / "mosquitto.log").read_text(errors="replace")[-2000:]
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        self.kill()
        raise TimeoutError(f"mosquitto did not listen on port {self.port} within {timeout} s")

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
