"""Answers that caches may keep a few seconds: a weak ETag over the body and
``Cache-Control: public, max-age=5``; a request whose ``If-None-Match`` names the ETag gets 304
with no body. For the public venue pages, which many phones poll at once."""

from __future__ import annotations

import hashlib

from fastapi import Request, Response

MAX_AGE_S = 5


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
