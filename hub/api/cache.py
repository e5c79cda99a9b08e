"""Answers that caches may keep a few seconds: a weak ETag over the body and
``Cache-Control: public, max-age=5``; a request whose ``If-None-Match`` names the ETag gets 304
with no body. For the public venue pages, which many phones poll at once."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from fastapi import Request, Response

MAX_AGE_S = 5
T = TypeVar("T")


class Recent(Generic[T]):
    """The last value ``make`` gave, for ``ttl_s`` seconds: many phones asking within the same
    second cost one computation (the answers may say ``max-age`` of a few seconds anyway)."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._value: T | None = None
        self._at = 0.0

    def get(self, make: Callable[[], T]) -> T:
        with self._lock:  # one computes, the others wait for its value
            now = self._clock()
            if self._value is None or now - self._at >= self._ttl_s:
                self._value = make()
                self._at = now
            return self._value


def etag_of(body: bytes) -> str:
    return f'W/"{hashlib.sha256(body).hexdigest()[:32]}"'


def _matches(if_none_match: str, etag: str) -> bool:
    opaque = etag.removeprefix("W/")
    for sent in if_none_match.split(","):
        tag = sent.strip()
        if tag == "*" or tag.removeprefix("W/") == opaque:  # weak comparison (RFC 9110 13.1.2)
            return True
    return False


def cached(request: Request, body: bytes, media_type: str) -> Response:
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={MAX_AGE_S}"}
    if _matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type=media_type, headers=headers)
