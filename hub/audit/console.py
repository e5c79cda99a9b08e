"""Who the audit log names for a change made at the console: the operating system's login
running the command, with the command line (bounded, the database password hidden) as its
request. Every ``community`` command that changes registry rows opens its session here."""

from __future__ import annotations

import getpass
import shlex
import sys
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hub.audit.context import Actor, act_as

SECRET_OPTIONS = ("--database-url",)
"""Options whose value may carry a password: logged with it hidden."""
MAX_REQUEST_CHARS = 300  # the column's size


def console_user() -> str:
    try:
        return getpass.getuser()[:64] or "unknown"
    except (OSError, KeyError):  # no login name in the environment and no passwd entry
        return "unknown"


def _hidden(value: str) -> str:
    try:
        return make_url(value).render_as_string(hide_password=True)
    except Exception:  # not a URL: say nothing of it
        return "***"


def _safe_words(argv: Sequence[str]) -> list[str]:
    words: list[str] = []
    hide_next = False
    for word in argv:
        if hide_next:
            words.append(_hidden(word))
            hide_next = False
            continue
        option, equals, value = word.partition("=")
        if option in SECRET_OPTIONS and equals:
            words.append(f"{option}={_hidden(value)}")
            continue
        hide_next = option in SECRET_OPTIONS
        words.append(word)
    return words


def console_actor(prog: str, argv: Sequence[str] | None, *, source: str = "cli") -> Actor:
    """The login running ``prog`` with ``argv`` (``sys.argv[1:]`` when ``None``)."""
    words = _safe_words(sys.argv[1:] if argv is None else argv)
    request = " ".join([prog, *(shlex.quote(w) for w in words)])
    return Actor(name=console_user(), source=source, request=request[:MAX_REQUEST_CHARS])


def console_session(
    engine: Engine,
    prog: str,
    argv: Sequence[str] | None,
    *,
    source: str = "cli",
    **options: Any,
) -> Session:
    """A session whose changes the audit log puts to the console's user and command line."""
    session = Session(engine, **options)
    act_as(session, console_actor(prog, argv, source=source))
    return session
