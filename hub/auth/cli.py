"""``community user``: add, list and revoke the users of the API and dashboard.

``add`` prints the new user's token once; only its digest is kept, so a lost token is replaced
(``community user token NAME``), never recovered. ``login-link`` prints a one-click link to the
dashboard that logs the user in once, within ``HUB_LOGIN_CODE_TTL_S`` (no token in it). Reads
``HUB_DATABASE_URL`` (``--database-url`` wins) and migrates the database first.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from hub.audit.console import console_session
from hub.auth.roles import Role
from hub.auth.users import (
    UserError,
    add_user,
    issue_login_code,
    issue_token,
    list_users,
    login_link,
    revoke_user,
)
from hub.core.db import make_engine, upgrade
from hub.core.settings import HubSettings

PROG = "community user"


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", help="default: HUB_DATABASE_URL or sqlite:///data/hub.db")
    parser = argparse.ArgumentParser(
        prog=PROG, description="Users of the hub's API and dashboard (docs/security.md)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", parents=[common], help="add a user, print its token once")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    scope = add.add_mutually_exclusive_group()
    scope.add_argument("--centre", help="centre_staff: the service centre id (centre-01)")
    scope.add_argument(
        "--unit", type=int, help="venue_manager: the owner unit's id; unit_contact: its unit's id"
    )
    commands.add_parser("list", parents=[common], help="users, roles, scopes, token prefixes")
    revoke = commands.add_parser(
        "revoke", parents=[common], help="revoke a user: its tokens and sessions stop at once"
    )
    revoke.add_argument("name")
    token = commands.add_parser(
        "token", parents=[common], help="issue another token for a user (printed once)"
    )
    token.add_argument("name")
    link = commands.add_parser(
        "login-link",
        parents=[common],
        help="a one-click dashboard login for a user: works once, for HUB_LOGIN_CODE_TTL_S",
    )
    link.add_argument("name")
    link.add_argument(
        "--url", help="the hub's address as the browser sees it (default: HUB_HTTP_HOST:PORT)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    overrides: dict[str, Any] = {"mode": "demo"}  # no broker here: no broker secret needed
    if args.database_url:
        overrides["database_url"] = args.database_url
    try:
        settings = HubSettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]) for e in exc.errors(include_url=False))
        print(f"{PROG}: invalid settings: {problems}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        upgrade(settings.database_url)
        with console_session(engine, PROG, argv) as db:
            return _run(db, args, settings)
    except UserError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"{PROG}: database error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def _run(db: Session, args: argparse.Namespace, settings: HubSettings) -> int:
    if args.command == "login-link":
        ttl = timedelta(seconds=settings.login_code_ttl_s)
        code = issue_login_code(db, args.name, ttl)
        print(f"a login link for {args.name}: it works once, within {_duration(ttl)}")
        print(login_link(args.url or _local_url(settings), code))
    elif args.command == "add":
        issued = add_user(db, args.name, Role(args.role), centre_id=args.centre, unit_id=args.unit)
        _print_token(issued.username, issued.role.value, issued.token)
    elif args.command == "token":
        issued = issue_token(db, args.name)
        _print_token(issued.username, issued.role.value, issued.token)
    elif args.command == "revoke":
        revoke_user(db, args.name)
        print(f"revoked {args.name}: its tokens and sessions no longer work")
    else:
        users = list_users(db)
        if not users:
            print("no users: add one with `community user add NAME --role operator`")
        for u in users:
            scope = (
                f"centre {u.centre_id}"
                if u.centre_id
                else f"unit {u.unit_id}"
                if u.unit_id
                else "all"
            )
            state = f"revoked {u.revoked_at:%Y-%m-%d %H:%M}" if u.revoked_at else "active"
            tokens = ", ".join(f"{p}…" for p in u.token_prefixes) or "no token"
            print(f"{u.username:<24} {u.role.value:<14} {scope:<16} {state:<24} {tokens}")
    return 0


def _print_token(username: str, role: str, token: str) -> None:
    print(f"user {username} ({role}); its token, shown this once:\n{token}")


def _local_url(settings: HubSettings) -> str:
    host = settings.http_host
    if host in {"0.0.0.0", "::", ""}:  # noqa: S104 - a listening address, not a destination
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.http_port}"


def _duration(ttl: timedelta) -> str:
    seconds = int(ttl.total_seconds())
    return f"{seconds // 60} minutes" if seconds % 60 == 0 else f"{seconds} seconds"
