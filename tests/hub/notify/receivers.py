"""Real receivers the notification tests start: one local HTTP server standing in for the WeCom
and DingTalk robots and a generic webhook (checking what each must get), and an SMTP server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

DINGTALK_SECRET = "SEC0123456789abcdef0123456789abcdef"


@dataclass
class Received:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    query: dict[str, str]
    problems: list[str]


def dingtalk_problems(query: dict[str, str], body: dict[str, Any], secret: str) -> list[str]:
    """What DingTalk's signed mode would refuse: a wrong signature or payload shape."""
    problems = []
    ts = query.get("timestamp", "")
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    if not ts.isdigit() or not hmac.compare_digest(query.get("sign", ""), expected):
        problems.append("bad signature")
    md = body.get("markdown")
    if (
        body.get("msgtype") != "markdown"
        or not isinstance(md, dict)
        or set(md) != {"title", "text"}
    ):
        problems.append(f"bad payload {body}")
    return problems


def wecom_problems(body: dict[str, Any]) -> list[str]:
    kind = body.get("msgtype")
    if kind not in {"markdown", "text"} or set(body) != {"msgtype", kind}:
        return [f"bad payload {body}"]
    inner = body[kind]
    if not isinstance(inner, dict) or not isinstance(inner.get("content"), str):
        return [f"bad content {body}"]
    return []


@dataclass
class Robots:
    """``/dingtalk``, ``/wecom`` and ``/hook`` answer as the robots do; ``/fail`` answers 500
    forever; ``/hang`` holds each request until ``release`` is set."""

    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    hanging: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def start_robots(port: int = 0) -> Robots:
    robots: Robots

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            problems: list[str] = []
            if parts.path == "/dingtalk":
                problems = dingtalk_problems(query, body, DINGTALK_SECRET)
            elif parts.path == "/wecom":
                problems = wecom_problems(body)
            with robots.lock:
                robots.received.append(
                    Received(parts.path, body, dict(self.headers), query, problems)
                )
            if parts.path == "/hang":
                robots.hanging.set()
                robots.release.wait(60)
            if parts.path == "/fail":
                self._answer(500, {"error": "receiver broken"})
            elif problems:
                self._answer(200, {"errcode": 310000, "errmsg": "; ".join(problems)})
            else:
                self._answer(200, {"errcode": 0, "errmsg": "ok"})

        def _answer(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    robots = Robots(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return robots


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """An SMTP server (aiosmtpd) keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(  # noqa: N802  (aiosmtpd calls it by this name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        with self._lock:
            self.messages.append(
                message_from_bytes(envelope.original_content or b"", policy=policy.default)
            )
        return "250 Message accepted for delivery"

    def received(self) -> list[Message]:
        with self._lock:
            return list(self.messages)

    def close(self) -> None:
        self.controller.stop()
