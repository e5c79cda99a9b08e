"""``community cards``: the hub's card keys (docs/security.md, "Cards").

* ``keygen [--out PATH]``: make the hub's card key file (0600; never overwrites one) and print
  its public key;
* ``public-key``: print the public key of ``HUB_CARD_PRIVATE_KEY_FILE``;
* ``site-key SITE``: print the two lines of SITE's edge config (its own card key and the hub's
  public key). The city key (``HUB_CARD_KEY``) is never printed and belongs on no edge.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from pydantic import ValidationError

from hub.core.card_keys import CardKeyError, card_keys, read_private_key, write_new_private_key
from hub.core.settings import HubSettings
from mqtt_contract.card_seal import public_key_text
from mqtt_contract.topics import ID_PATTERN

PROG = "community cards"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    keygen = sub.add_parser("keygen", help="make the hub's card key file, print its public key")
    keygen.add_argument("--out", type=Path, help="default: HUB_CARD_PRIVATE_KEY_FILE")
    sub.add_parser("public-key", help="print the public key of HUB_CARD_PRIVATE_KEY_FILE")
    site = sub.add_parser("site-key", help="print a site's edge config lines for its cards")
    site.add_argument("site", help="the site id, e.g. centre-01")
    args = parser.parse_args(argv)
    try:
        settings = HubSettings(mode="demo")  # no broker here: no broker secret needed
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]) for e in exc.errors(include_url=False))
        print(f"{PROG}: invalid settings: {problems}", file=sys.stderr)
        return 2
    try:
        if args.action == "keygen":
            return _keygen(args.out or settings.card_private_key_file)
        if args.action == "public-key":
            return _public_key(settings.card_private_key_file)
        return _site_key(settings, args.site)
    except (CardKeyError, ValueError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1


def _keygen(path: Path | None) -> int:
    if path is None:
        raise ValueError("where to? give --out PATH or set HUB_CARD_PRIVATE_KEY_FILE")
    key = write_new_private_key(path)
    print(
        f"# card key written to {path} (mode 0600): back it up; losing it orphans every sealed "
        "card in transit and the members' card vault",
        file=sys.stderr,
    )
    print(public_key_text(key.public_key))
    return 0


def _public_key(path: Path | None) -> int:
    if path is None:
        raise ValueError("set HUB_CARD_PRIVATE_KEY_FILE")
    print(public_key_text(read_private_key(path).public_key))
    return 0


def _site_key(settings: HubSettings, site: str) -> int:
    if not re.fullmatch(ID_PATTERN, site):
        raise ValueError(f"{site!r} is not a site id")
    keys = card_keys(settings)
    if keys is None:
        raise ValueError("needs HUB_CARD_KEY and HUB_CARD_PRIVATE_KEY_FILE")
    print(f"# edge config of {site}: site_card_key is a secret (or EDGE_SITE_CARD_KEY)")
    print(f'site_card_key = "{keys.site_key(site)}"')
    print(f'hub_card_public_key = "{keys.public_key}"')
    return 0
