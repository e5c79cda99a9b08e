"""Sending one message to one channel, with a timeout on every call: WeCom and DingTalk group
robots, e-mail over SMTP, a generic webhook signed with HMAC-SHA256.

Plain httpx and smtplib rather than apprise: apprise's DingTalk plugin posts to a fixed host
(no local receiver to test against), sends no timeout, and its markdown mode keeps
``msgtype: text``; here each payload is a few lines we can read and test, and the receiver's
answer is kept for the log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage

import httpx

from hub.notify.guard import check_webhook_url
from hub.notify.models import ANSWER_CHARS

SIGNATURE_HEADER = "X-Community-Signature"
TIMESTAMP_HEADER = "X-Community-Timestamp"


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str
    kind: str
    severity: str
    dedup_key: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Target:
    kind: str
    target: str
    secret: str | None


@dataclass(frozen=True, slots=True)
class Smtp:
    host: str | None
    port: int
    user: str | None
    password: str | None
    sender: str | None
    starttls: bool


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    answer: str


class ChannelError(Exception):
    """The receiver refused or could not be reached; the text is its answer."""


def send(
    message: Message, target: Target, *, hosts: frozenset[str], smtp: Smtp, timeout_s: float
) -> Outcome:
    """Send and say how it went; never raises for a receiver's failure."""
    try:
        if target.kind == "email":
            answer = _email(message, target.target, smtp, timeout_s)
        else:
            check_webhook_url(target.target, hosts)  # again: the setting may have changed
            answer = _post(message, target, timeout_s)
    except (ChannelError, ValueError, OSError, httpx.HTTPError, smtplib.SMTPException) as exc:
        return Outcome(False, bounded(f"{type(exc).__name__}: {exc}"))
    return Outcome(True, bounded(answer))


def bounded(text: str) -> str:
    return text if len(text) <= ANSWER_CHARS else text[: ANSWER_CHARS - 1] + "…"


def markdown(message: Message) -> str:
    return f"### {message.title}\n\n{message.body}"


def wecom_payload(message: Message) -> dict[str, object]:
    # WeCom's markdown content is at most 4096 bytes
    return {"msgtype": "markdown", "markdown": {"content": markdown(message)[:1300]}}


def dingtalk_payload(message: Message) -> dict[str, object]:
    return {"msgtype": "markdown", "markdown": {"title": message.title, "text": markdown(message)}}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signed mode: base64 of HMAC-SHA256 over ``timestamp\\nsecret`` keyed by the
    secret (URL-encoded when put in the query, which httpx does)."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The generic webhook's signature: hex HMAC-SHA256 of ``timestamp.body`` (docs/notifications.md)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _post(message: Message, target: Target, timeout_s: float) -> str:
    params: dict[str, str] = {}
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if target.kind == "wecom":
        body = json.dumps(wecom_payload(message), ensure_ascii=False).encode()
    elif target.kind == "dingtalk":
        body = json.dumps(dingtalk_payload(message), ensure_ascii=False).encode()
        if target.secret:
            ms = int(time.time() * 1000)
            params = {"timestamp": str(ms), "sign": dingtalk_sign(target.secret, ms)}
    elif target.kind == "webhook":
        body = json.dumps(
            {
                "kind": message.kind,
                "severity": message.severity,
                "title": message.title,
                "body": message.body,
                "key": message.dedup_key,
                "created_at": message.created_at,
            },
            ensure_ascii=False,
        ).encode()
        if target.secret:
            stamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = stamp
            headers[SIGNATURE_HEADER] = webhook_signature(target.secret, stamp, body)
    else:
        raise ChannelError(f"unknown channel kind {target.kind!r}")
    with httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False) as client:
        # merged, not replaced: the robot's URL carries its access token in the query
        url = httpx.URL(target.target).copy_merge_params(params)
        response = client.post(url, content=body, headers=headers)
    text = response.text
    if response.status_code // 100 != 2:
        raise ChannelError(f"HTTP {response.status_code}: {text}")
    if target.kind in {"wecom", "dingtalk"}:
        _robot_ok(text)
    return f"HTTP {response.status_code}: {text}"


def _robot_ok(text: str) -> None:
    """WeCom and DingTalk answer 200 with ``errcode`` 0, or another code when they refuse."""
    try:
        answer = json.loads(text)
    except ValueError as exc:
        raise ChannelError(f"not a robot's answer: {text}") from exc
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        raise ChannelError(f"refused: {text}")


def _email(message: Message, to: str, smtp: Smtp, timeout_s: float) -> str:
    if not smtp.host or not smtp.sender:
        raise ChannelError("e-mail is not set up: HUB_SMTP_HOST and HUB_SMTP_FROM")
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = smtp.sender
    mail["To"] = to
    mail.set_content(message.body)
    with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout_s) as client:
        if smtp.starttls:
            client.starttls(context=ssl.create_default_context())
        if smtp.user and smtp.password:
            client.login(smtp.user, smtp.password)
        refused = client.send_message(mail)
    if refused:
        raise ChannelError(f"refused: {refused}")
    return "250 accepted"
