"""Write one batch of records in one transaction.

Events go in with one bulk ``INSERT ... ON CONFLICT DO NOTHING RETURNING event_id`` per kind: what
comes back was new, the rest was already recorded. Site and device state is updated with conditional
``UPDATE``s so that concurrent workers cannot move it backwards. Database errors are translated
here into the two cases the worker treats differently.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    case,
    delete,
    exc,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from hub.core.bulk import BulkInsert
from hub.core.db_errors import translate
from hub.core.dialect import insert_for
from hub.core.types import UTCDateTime
from hub.ingest.events import (
    DeadLetterKind,
    DeadLetterRecord,
    EventKey,
    EventRecord,
    HealthRecord,
    Record,
    StatusRecord,
    WriteResult,
)
from hub.ingest.hooks import TransactionHook
from hub.ingest.models import (
    BayReading,
    Checkin,
    CounterReading,
    DeadLetter,
    Device,
    EventTable,
    Site,
)
from mqtt_contract.models import CheckinEvent, CounterEvent

log = logging.getLogger(__name__)

_SELECT_CHUNK = 500

EVENT_TABLES: dict[str, EventTable] = {
    "checkin": Checkin,
    "counter": CounterReading,
    "bays": BayReading,
}
"""Where each event kind (the payload's ``kind``) is recorded."""


class RecordStore:
    def __init__(self, engine: Engine, hooks: Sequence[TransactionHook] = ()) -> None:
        """``hooks`` run in each batch's transaction with the events it recorded first."""
        self._engine = engine
        self._hooks = tuple(hooks)
        self._insert = insert_for(engine)
        # Sites and devices known to exist; rows are never deleted by ingest, so this only saves
        # the registering INSERTs for what was already seen.
        self._known_sites: set[str] = set()
        self._known_devices: set[tuple[str, str]] = set()

    def write(self, records: Sequence[Record], now: datetime | None = None) -> WriteResult:
        """Record everything in one transaction, or raise ``StoreUnavailableError`` (try again
        later) or ``RecordsRejectedError`` (something in the batch is refused)."""
        now = now or datetime.now(UTC)
        events = [r for r in records if isinstance(r, EventRecord)]
        unique = _unique_events(events)
        dead = [r for r in records if isinstance(r, DeadLetterRecord)]
        states = [r for r in records if isinstance(r, StatusRecord | HealthRecord)]
        sites = {r.event.site for r in events} | {_site_of(r) for r in states}
        devices = {(r.event.site, r.event.device) for r in events}
        result = WriteResult()
        try:
            with self._engine.begin() as conn:
                self._register(conn, sites, devices, now)
                inserted: set[UUID] = set()
                for kind, table in EVENT_TABLES.items():
                    of_kind = [r for r in unique if r.event.kind == kind]
                    inserted |= self._insert_events(conn, table, of_kind)
                if inserted and self._hooks:
                    first = [r for r in unique if r.event.id in inserted]
                    for hook in self._hooks:
                        hook(conn, first)
                dead += self._settle(conn, events, unique, inserted, result)
                for record in states:
                    self._apply_state(conn, record, now)
                self._insert_dead_letters(conn, dead, result)
        except exc.SQLAlchemyError as err:
            translated = translate(err)
            if translated is None:
                raise
            raise translated from err
        self._known_sites |= sites
        self._known_devices |= devices
        return result

    # --- registration -------------------------------------------------------------------------

    def _register(
        self, conn: Connection, sites: set[str], devices: set[tuple[str, str]], now: datetime
    ) -> None:
        new_sites = sorted(sites - self._known_sites)
        if new_sites:
            conn.execute(
                self._insert(Site).on_conflict_do_nothing(index_elements=[Site.id]),
                [{"id": s, "first_seen": now, "state": "unknown"} for s in new_sites],
            )
        new_devices = sorted(devices - self._known_devices)
        if new_devices:
            conn.execute(
                self._insert(Device).on_conflict_do_nothing(
                    index_elements=[Device.site_id, Device.id]
                ),
                [_new_device(site, device, now) for site, device in new_devices],
            )

    # --- events -------------------------------------------------------------------------------

    def _insert_events(
        self, conn: Connection, table: EventTable, events: list[EventRecord]
    ) -> set[UUID]:
        if not events:
            return set()
        bulk, stmt = _event_insert(conn.dialect.name, table)
        inserted = set(conn.execute(stmt, bulk.params([_event_row(r) for r in events])).scalars())
        if conn.dialect.name == "postgresql" and inserted:
            inserted -= _undo_reused_ids(conn, table, events, inserted)
        return inserted

    def _settle(
        self,
        conn: Connection,
        events: list[EventRecord],
        unique: list[EventRecord],
        inserted: set[UUID],
        result: WriteResult,
    ) -> list[DeadLetterRecord]:
        """Receipt what was new or already recorded as the same event; dead-letter id clashes.

        ``events`` has every event of the batch, ``unique`` the first of each event id."""
        result.committed = len(inserted)
        result.new_events = [r for r in unique if r.event.id in inserted]
        new = {id(r) for r in result.new_events}
        stored = {r.event.id: r.key for r in unique if r.event.id in inserted}
        for kind, table in EVENT_TABLES.items():
            missing = [r.event.id for r in unique if r.event.kind == kind and id(r) not in new]
            for chunk in _chunks(missing, _SELECT_CHUNK):
                query = select(table.event_id, table.site_id, table.boot, table.seq).where(
                    table.event_id.in_(chunk)
                )
                for event_id, site, boot, seq in conn.execute(query):
                    stored[event_id] = EventKey(site, boot, seq)
        clashes: list[DeadLetterRecord] = []
        for record in events:
            if id(record) in new:
                result.receipt(record.key)
            elif stored.get(record.event.id) == record.key:
                result.duplicates += 1
                result.receipt(record.key)
            else:
                clashes.append(_clash(record, stored.get(record.event.id)))
        return clashes

    # --- site and device state ----------------------------------------------------------------

    def _apply_state(
        self, conn: Connection, record: StatusRecord | HealthRecord, now: datetime
    ) -> None:
        if isinstance(record, StatusRecord):
            self._apply_status(conn, record)
        else:
            self._apply_health(conn, record, now)

    def _apply_status(self, conn: Connection, record: StatusRecord) -> None:
        """Arrival order wins: an edge's will has the same ``since`` as its online status."""
        status, at = record.status, record.received_at
        values: dict[str, Any] = {
            "state": status.state,
            "state_at": at,
            "boot": status.boot,
            "agent_version": status.agent_version,
            # a new boot's clock may be behind the old one's: its heartbeats start afresh
            "heartbeat_at": case((Site.boot == status.boot, Site.heartbeat_at), else_=None),
        }
        if not record.retained:
            values["last_seen"] = _later(Site.last_seen, at)
        conn.execute(
            update(Site)
            .where(Site.id == status.site, or_(Site.state_at.is_(None), Site.state_at <= at))
            .values(values)
        )

    def _apply_health(self, conn: Connection, record: HealthRecord, now: datetime) -> None:
        """Edge time orders heartbeats within a boot; a heartbeat of a new boot always wins."""
        health, at = record.health, record.received_at
        applied = conn.execute(
            _health_update(),
            {
                "h_site": health.site,
                "h_boot": health.boot,
                "h_ts": health.ts,
                "h_version": health.agent_version,
                "h_depth": health.outbox_depth,
                "h_oldest": health.oldest_pending_s,
                "h_at": at,
            },
        ).rowcount
        if not applied or not health.devices:
            return
        bulk, stmt = _device_upsert(conn.dialect.name)
        rows = [
            {
                **_new_device(health.site, d.id, now),
                "kind": d.kind,
                "state": d.state,
                "last_seen": at,
                "last_frame_at": d.last_frame_at,
                "frames_ok": d.frames_ok,
                "frame_errors": d.frame_errors,
                "port_errors": d.port_errors,
                "timeouts": d.timeouts,
            }
            for d in health.devices
        ]
        conn.execute(stmt, bulk.params(rows))

    # --- dead letters -------------------------------------------------------------------------

    def _insert_dead_letters(
        self, conn: Connection, dead: list[DeadLetterRecord], result: WriteResult
    ) -> None:
        if not dead:
            return
        conn.execute(
            insert(DeadLetter),
            [
                {
                    "received_at": d.received_at,
                    "topic": d.topic,
                    "payload": d.payload,
                    "size": d.size,
                    "reason_kind": d.kind.value,
                    "reason": d.reason,
                }
                for d in dead
            ],
        )
        result.new_dead_letters += dead
        for d in dead:
            result.dead_letters[d.kind.value] += 1
            if d.receipt is not None:
                result.receipt(d.receipt)


@functools.cache
def _health_update() -> Any:
    """Built once: every site sends a heartbeat every few seconds."""
    boot = bindparam("h_boot", type_=Site.boot.type)
    ts = bindparam("h_ts", type_=UTCDateTime())
    return (
        update(Site)
        .where(
            Site.id == bindparam("h_site"),
            or_(
                Site.heartbeat_at.is_(None),
                Site.boot.is_(None),
                Site.boot != boot,
                Site.heartbeat_at <= ts,
            ),
        )
        .values(
            boot=boot,
            agent_version=bindparam("h_version"),
            heartbeat_at=ts,
            outbox_depth=bindparam("h_depth"),
            oldest_pending_s=bindparam("h_oldest"),
            last_seen=_later(Site.last_seen, bindparam("h_at", type_=UTCDateTime())),
        )
    )


_DEVICE_COLUMNS = (
    "site_id",
    "id",
    "first_seen",
    "kind",
    "state",
    "last_seen",
    "last_frame_at",
    "frames_ok",
    "frame_errors",
    "port_errors",
    "timeouts",
)


@functools.cache
def _device_upsert(dialect: str) -> tuple[BulkInsert, Any]:
    bulk = BulkInsert(dialect, Device, _DEVICE_COLUMNS)
    return bulk, bulk.replacing([Device.site_id, Device.id], _DEVICE_COLUMNS[3:])


@functools.cache
def _event_insert(dialect: str, table: EventTable) -> tuple[BulkInsert, Any]:
    """Built once per dialect and table: this runs for every batch."""
    bulk = BulkInsert(dialect, table, [c.name for c in table.__table__.columns])
    stmt = bulk.insert.on_conflict_do_nothing(index_elements=_event_key(dialect, table)).returning(
        table.event_id
    )
    return bulk, stmt


def _event_key(dialect: str, table: EventTable) -> list[Any]:
    """The unique index a redelivered event meets. On PostgreSQL the event tables are
    partitioned by device time (migration 0011), and a partitioned table's unique key must hold
    it: ``(event_id, device_time)``. A redelivery is the edge's stored event, device time and
    all, so it meets its row there as it does ``event_id`` alone on SQLite."""
    if dialect == "postgresql":
        return [table.event_id, table.device_time]
    return [table.event_id]


def _undo_reused_ids(
    conn: Connection, table: EventTable, events: list[EventRecord], inserted: set[UUID]
) -> set[UUID]:
    """On PostgreSQL a row is unique by ``(event_id, device_time)``: an id already recorded with
    another device time is not a redelivery but another event reusing it. Its new row is taken
    out again, so that it is settled as a clash (a dead letter), as on SQLite."""
    reused: set[UUID] = set()
    for chunk in _chunks(sorted(inserted), _SELECT_CHUNK):
        query = (
            select(table.event_id)
            .where(table.event_id.in_(chunk))
            .group_by(table.event_id)
            .having(func.count() > 1)
        )
        reused |= set(conn.execute(query).scalars())
    for record in events:
        if record.event.id in reused:
            conn.execute(
                delete(table).where(
                    table.event_id == record.event.id, table.device_time == record.event.ts
                )
            )
    return reused


def _unique_events(records: Iterable[EventRecord]) -> list[EventRecord]:
    """The first of each event id: a batch may hold a message and its redelivery."""
    seen: set[UUID] = set()
    unique: list[EventRecord] = []
    for record in records:
        if record.event.id not in seen:
            seen.add(record.event.id)
            unique.append(record)
    return unique


def _site_of(record: StatusRecord | HealthRecord) -> str:
    return record.status.site if isinstance(record, StatusRecord) else record.health.site


def _new_device(site: str, device: str, now: datetime) -> dict[str, Any]:
    return {
        "site_id": site,
        "id": device,
        "first_seen": now,
        "kind": "unknown",
        "state": "unknown",
        "frames_ok": 0,
        "frame_errors": 0,
        "port_errors": 0,
        "timeouts": 0,
    }


def _event_row(record: EventRecord) -> dict[str, Any]:
    event = record.event
    row: dict[str, Any] = {
        "event_id": event.id,
        "site_id": event.site,
        "device_id": event.device,
        "boot": event.boot,
        "seq": event.seq,
        "device_time": event.ts,
        "received_at": record.received_at,
    }
    if isinstance(event, CheckinEvent):
        row.update(
            card_hash=event.data.pseudonym,
            decision=event.data.decision,
            allowlist_version=event.data.allowlist_version,
        )
    elif isinstance(event, CounterEvent):
        row.update(
            unit_id=event.data.unit_id,
            device_boots=event.data.device_boots,
            count_in=event.data.count_in,
            count_out=event.data.count_out,
            status=event.data.status,
        )
    else:
        row.update(
            unit_id=event.data.unit_id,
            bays=event.data.bays,
            occupied=event.data.occupied,
            total=len(event.data.bays),
        )
    return row


def _clash(record: EventRecord, stored: EventKey | None) -> DeadLetterRecord:
    event = record.event
    where = (
        f"site {stored.site!r} boot {stored.boot} seq {stored.seq}" if stored else "another event"
    )
    return DeadLetterRecord(
        topic=record.topic,
        payload=record.payload,
        size=len(record.payload),
        kind=DeadLetterKind.CONFLICT,
        reason=f"event id {event.id} is already recorded for {where}, but this message is "
        f"site {event.site!r} boot {event.boot} seq {event.seq}",
        received_at=record.received_at,
        receipt=record.key,
    )


def _later(column: Any, value: datetime | BindParameter[datetime]) -> ColumnElement[Any]:
    """SQL for max(column, value), NULL-safe, typed so SQLite compares like with like."""
    param = (
        value if isinstance(value, BindParameter) else bindparam(None, value, type_=UTCDateTime())
    )
    return case((or_(column.is_(None), column < param), param), else_=column)


def _chunks(items: list[UUID], size: int) -> Iterable[list[UUID]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
