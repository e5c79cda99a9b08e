"""Where a webhook may be sent: a user types the URL, so without a guard the hub would post to
any address it can reach (its database, a metadata service: SSRF). Only hosts named in
``HUB_NOTIFY_WEBHOOK_HOSTS`` are allowed, over https; plain http only to a loopback host that is
listed (a relay on the same machine, the tests). Redirects are never followed."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


class UnsafeTargetError(ValueError):
    """The URL is not one the hub may send to."""


def allowed_hosts(setting: str) -> frozenset[str]:
    return frozenset(h.strip().lower() for h in setting.split(",") if h.strip())


def check_webhook_url(url: str, hosts: frozenset[str]) -> str:
    """``url`` if the hub may post to it, else ``UnsafeTargetError`` saying why."""
    if len(url) > 2000:
        raise UnsafeTargetError("a webhook URL is at most 2000 characters")
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"https", "http"} or not host:
        raise UnsafeTargetError("a webhook URL is https://host/...")
    if parts.username or parts.password:
        raise UnsafeTargetError("a webhook URL carries no user or password")
    if host not in hosts:
        raise UnsafeTargetError(
            f"host {host!r} is not allowed: an operator may add it to HUB_NOTIFY_WEBHOOK_HOSTS"
        )
    if parts.scheme == "http" and not _loopback(host):
        raise UnsafeTargetError("a webhook URL must be https (plain http only to loopback)")
    return url


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
