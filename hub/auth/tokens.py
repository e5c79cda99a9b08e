"""Bearer secrets (API tokens, session ids, login codes): made at random, kept only as a SHA-256 digest.

A token carries 256 random bits, so a fast unsalted digest is as good as a slow password hash
against a stolen table, and it lets every request find its user with one indexed lookup. The
clear token is shown once, when it is made.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "yp_"  # noqa: S105 - marks a string as a token (secret scanners find it)
PREFIX_SHOWN = 10
"""Characters of a token kept in clear (``yp_`` and 7 more) so people can tell tokens apart."""


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def new_login_code() -> str:
    """A one-click login link's code: as random as a token, but worth one session, once."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def shown_prefix(token: str) -> str:
    return token[:PREFIX_SHOWN]
