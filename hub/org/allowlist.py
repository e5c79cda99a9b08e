"""Each service centre's allowlist: the card hashes of the in-service members of the communities
it serves, hashed with that centre's own key (``mqtt_contract.card_seal``), versioned.

The version changes only when the content does (a digest of the sorted hashes is kept per
centre). It is ``max(previous + 1, Unix seconds)``, so it keeps growing even if the records are
rebuilt from scratch: an edge keeps only a version newer than the one it holds. Concurrent hubs
bump with a conditional update; the loser reads the winner's version.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.core.card_keys import HubCardKeys, SealError
from hub.org.models import AllowlistVersion, Community, Member, ServiceCentre
from mqtt_contract.models import Allowlist

log = logging.getLogger(__name__)


def digest_of(card_hashes: list[str]) -> str:
    return hashlib.sha256("\n".join(card_hashes).encode()).hexdigest()


def allowed_cards(conn: Connection, keys: HubCardKeys) -> dict[str, list[str]]:
    """Centre id → sorted card hashes allowed there, in the centre's own key (every centre, even
    with none). Made from the members' card vault: a member whose vault is empty is missing (the
    edge says "unknown" offline; the hub still counts the tap)."""
    cards: dict[str, list[str]] = {c: [] for c in conn.scalars(select(ServiceCentre.id))}
    rows = conn.execute(
        select(Community.centre_id, Member.card_sealed)
        .join(Community, Community.id == Member.community_id)
        .where(
            Community.centre_id.is_not(None),
            Member.card_sealed.is_not(None),
            Member.in_service.is_(True),
            Member.archived_at.is_(None),  # an archived member's card opens nothing
        )
    )
    grouped: dict[str, set[str]] = defaultdict(set)
    unopened = 0
    for centre, sealed in rows:
        if centre is None or sealed is None:  # excluded by the query; for the types
            continue
        try:
            grouped[centre].add(keys.site_hash(centre, keys.open(sealed)))
        except SealError:
            unopened += 1
    if unopened:
        log.warning("%d members' card vault entries do not open with this hub's key", unopened)
    for centre, hashes in grouped.items():
        cards[centre] = sorted(hashes)
    return cards


def current_allowlists(
    engine: Engine, keys: HubCardKeys, now: datetime | None = None
) -> list[tuple[Allowlist, bool]]:
    """Every centre's allowlist as it should be published now, and whether it changed (a new
    version was issued by this call)."""
    now = now or datetime.now(UTC)
    result: list[tuple[Allowlist, bool]] = []
    with engine.begin() as conn:
        cards = allowed_cards(conn, keys)
        known = {row.centre_id: row for row in conn.execute(select(AllowlistVersion))}
        for centre, hashes in sorted(cards.items()):
            digest = digest_of(hashes)
            row = known.get(centre)
            if row is not None and row.digest == digest:
                version, issued, changed = row.version, row.issued_at, False
            else:
                version = max((row.version + 1) if row else 1, int(now.timestamp()))
                values = {"version": version, "digest": digest, "size": len(hashes)}
                previous = row.version if row else None
                issued = now
                changed = _store(conn, centre, previous, {**values, "issued_at": now})
                if not changed:  # another hub got there first: take its version
                    stored = conn.execute(
                        select(AllowlistVersion).where(AllowlistVersion.centre_id == centre)
                    ).one()
                    version, issued = stored.version, stored.issued_at
            allowlist = Allowlist(
                site=centre, version=version, issued_at=issued, card_hashes=hashes
            )
            result.append((allowlist, changed))
    return result


def _store(
    conn: Connection, centre: str, previous_version: int | None, values: dict[str, Any]
) -> bool:
    """Insert or bump the centre's row unless another hub changed it meanwhile."""
    if previous_version is None:
        try:
            with conn.begin_nested():
                conn.execute(insert(AllowlistVersion).values(centre_id=centre, **values))
        except IntegrityError:
            return False
        return True
    updated = conn.execute(
        update(AllowlistVersion)
        .where(AllowlistVersion.centre_id == centre, AllowlistVersion.version == previous_version)
        .values(**values)
    ).rowcount
    return bool(updated)
