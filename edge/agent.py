"""One edge agent per site: card readers in, outbox in the middle, publisher out.

The hub's command requests (``edge.commands``) are answered here: ``ping``, ``config`` (changed
settings checked, kept beside the outbox, then the readers, pollers and publisher rebuilt on
them), ``allowlist.resend``, ``restart`` (the same rebuild) and ``alert`` (the site's signs, through
``show_alert``, which ``cmd/alert`` also takes). A rebuild keeps the outbox, its sequence and the boot: nothing
committed is lost, and what was pending is sent again on the new connection.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from importlib.metadata import version

from pydantic import JsonValue

from edge.allowlist import AllowlistCache, path_beside
from edge.card_reader import CardReader, Tap
from edge.commands import (
    Answer,
    Args,
    CommandJournal,
    CommandRefusedError,
    CommandRunner,
    Handler,
    journal_beside,
)
from edge.config import (
    BaySensorSettings,
    CardReaderSettings,
    ConfigError,
    EdgeSettings,
    ModbusDeviceSettings,
    SignSettings,
)
from edge.config_override import changed, keep, with_override
from edge.modbus_poller import LineDevice, ModbusPoller, PollOptions, Reading
from edge.outbox import Outbox
from edge.publisher import Publisher, PublisherConfig
from edge.sign import AlertShown, SignShows, VenueSign, alert_from_args
from edge.venue_sensors import BaySensor, PeopleCounter
from mqtt_contract import topics
from mqtt_contract.card_seal import public_key_from_text, seal_card
from mqtt_contract.commands import Operation
from mqtt_contract.credentials import card_hash
from mqtt_contract.models import (
    Allowlist,
    BaysData,
    BaysEvent,
    CapacityAlert,
    CheckinData,
    CheckinEvent,
    CounterEvent,
    Health,
    Status,
)
from mqtt_contract.session import SessionOptions
from mqtt_contract.topics import EventKind

log = logging.getLogger(__name__)

AGENT_VERSION = version("yuanping-community")
SIGN_WAIT_S = 5.0
"""How long the ``alert`` command waits for the signs to confirm what they show."""
ALLOWLIST_WAIT_S = 5.0
"""How long ``allowlist.resend`` waits for the broker's retained list before answering."""
PUBLISHER_STUCK_S = 30.0
"""The publisher's loop turns every 0.5 s at least; this long without a turn, it is stuck."""
RESTART_STUCK_S = 60.0
"""A restart of the agent's parts (``config``, ``restart``) takes seconds; this long, it hangs."""


class EdgeAgent:
    def __init__(self, settings: EdgeSettings) -> None:
        settings = with_override(settings)  # what the hub's config commands changed
        self.settings = settings
        self.boot = uuid.uuid4()
        self._started = time.monotonic()
        self._since = datetime.now(UTC)
        self._site_card_key = settings.site_card_key.get_secret_value().encode()
        self._hub_public_key = public_key_from_text(settings.hub_card_public_key)
        self.outbox = Outbox(settings.outbox_path)
        self.allowlist = AllowlistCache(path_beside(settings.outbox_path), settings.site)
        self._allowlist_seen = threading.Event()
        self._journal = CommandJournal(journal_beside(settings.outbox_path))
        self.commands = CommandRunner(
            settings.site, self._journal, self._handlers(), self._publish_reply
        )
        self._rebuild = threading.Lock()  # one rebuild at a time, none during stop
        self._rebuilding_since = 0.0
        self._build()

    def _build(self) -> None:
        """The publisher, readers and pollers for ``self.settings`` (not started)."""
        settings = self.settings
        status = {"site": settings.site, "boot": self.boot, "since": self._since}
        self.publisher = Publisher(
            PublisherConfig(
                site=settings.site,
                endpoint=settings.mqtt.endpoint,
                session=SessionOptions(
                    client_id=topics.edge_client_id(settings.site),
                    protocol=settings.mqtt.protocol,
                    username=settings.mqtt_username,
                    password=(
                        settings.mqtt.password.get_secret_value()
                        if settings.mqtt.password
                        else None
                    ),
                    session_expiry_s=settings.mqtt.session_expiry_s,
                ),
                resend_after_s=settings.resend_after_s,
                inflight_window=settings.inflight_window,
                retention_s=settings.retention_s,
            ),
            self.outbox,
            online_status=Status(state="online", agent_version=AGENT_VERSION, **status),
            offline_status=Status(state="offline", agent_version=AGENT_VERSION, **status),
            heartbeat=self._heartbeat,
            heartbeat_interval_s=settings.heartbeat_interval_s,
            on_allowlist=self._on_allowlist,
            on_request=self.commands.offer,
            on_alert=self._alert_from_hub,
        )
        self.readers = [
            CardReader(
                device.id,
                device.port,
                on_tap=partial(self.record_tap, device.id),
                baudrate=device.baudrate,
                release_s=device.release_s,
            )
            for device in settings.devices
            if isinstance(device, CardReaderSettings)
        ]
        self.pollers, self.signs = modbus_lines(settings, self.record_reading)

    def start(self) -> None:
        log.info(
            "edge agent for site %s (boot %s), %d device(s), outbox %s",
            self.settings.site,
            self.boot,
            len(self.settings.devices),
            self.settings.outbox_path,
        )
        self.commands.start()
        self._start_parts()

    def stop(self) -> None:
        self.commands.stop()
        with self._rebuild:
            self._stop_parts()
        self._journal.close()
        self.outbox.close()

    def restart(self, settings: EdgeSettings | None = None) -> None:
        """Stop the readers, pollers and publisher and start them again (on ``settings`` when
        given); the outbox, the boot and the command runner carry on."""
        with self._rebuild:
            self._rebuilding_since = time.monotonic()
            log.info("restarting the agent's parts%s", " on new settings" if settings else "")
            self._stop_parts()
            if settings is not None:
                self.settings = settings
            self._build()
            self._start_parts()

    def problems(self) -> list[str]:
        """What keeps this agent from doing its job, for the watchdog (``edge.supervise``):
        a thread of its that ended, a publisher loop that stopped turning, an outbox that does
        not answer. Not its devices: a pulled cable or a broker away is what the heartbeat
        reports, and restarting the process would not bring them back."""
        site = self.settings.site
        if not self._rebuild.acquire(blocking=False):  # its parts are being restarted
            busy = time.monotonic() - self._rebuilding_since
            return [f"{site}: a restart has run {busy:.0f} s"] if busy > RESTART_STUCK_S else []
        try:
            found = [
                f"{site}: card reader {r.device_id} stopped" for r in self.readers if not r.running
            ]
            found += [
                f"{site}: the poller of {p.port} stopped" for p in self.pollers if not p.running
            ]
            if not self.commands.running:
                found.append(f"{site}: the command runner stopped")
            idle = self.publisher.idle_s()
            if idle > PUBLISHER_STUCK_S:
                found.append(f"{site}: the publisher has not turned for {idle:.0f} s")
        finally:
            self._rebuild.release()
        try:
            self.outbox.stats()
        except sqlite3.Error as exc:
            found.append(f"{site}: the outbox does not answer: {exc}")
        return found

    def _start_parts(self) -> None:
        self.publisher.start()
        for reader in self.readers:
            reader.start()
        for poller in self.pollers:
            poller.start()

    def _stop_parts(self) -> None:
        for reader in self.readers:
            reader.stop()
        for poller in self.pollers:
            poller.stop()
        self.publisher.stop()

    # commands (on the command runner's thread) ---------------------------------------------

    def _handlers(self) -> dict[Operation, Handler]:
        return {
            Operation.PING: self._ping,
            Operation.CONFIG: self._config,
            Operation.ALLOWLIST_RESEND: self._allowlist_resend,
            Operation.RESTART: lambda _args: Answer({"restarting": True}, then=self.restart),
            Operation.ALERT: self._alert,
        }

    def _alert(self, args: Args) -> Answer:
        """The ``alert`` command: what the venue's sign shows, confirmed by the sign."""
        if not self.signs:
            raise CommandRefusedError("this site has no sign")
        try:
            alert = alert_from_args(self.settings.site, args, datetime.now(UTC))
        except ValueError as exc:
            raise CommandRefusedError(f"bad alert: {exc}"[:500]) from None
        shown = self.show_alert(alert, wait_s=SIGN_WAIT_S)
        if not shown.shown:
            raise CommandRefusedError(f"the sign did not confirm within {SIGN_WAIT_S:g} s")
        return Answer({"signs": list(shown.signs)})

    def _publish_reply(self, payload: bytes) -> bool:
        return self.publisher.reply(payload)

    def _ping(self, _args: Args) -> Answer:
        return Answer(
            {
                "agent_version": AGENT_VERSION,
                "boot": str(self.boot),
                "uptime_s": round(time.monotonic() - self._started, 1),
                "heartbeat_interval_s": self.settings.heartbeat_interval_s,
                "devices": [str(d.id) for d in self.settings.devices],
            }
        )

    def _config(self, args: Args) -> Answer:
        """Check the changes; refused, the running config stays. Kept, then applied after the
        answer (the rebuild replaces the connection the answer goes out on)."""
        try:
            settings = changed(self.settings, args)
        except ConfigError as exc:
            raise CommandRefusedError(f"config refused: {exc}") from None
        keep(self.settings, args)
        return Answer(
            {
                "changed": list[JsonValue](sorted(args)),
                "heartbeat_interval_s": settings.heartbeat_interval_s,
            },
            then=partial(self.restart, settings),
        )

    def _allowlist_resend(self, _args: Args) -> Answer:
        self._allowlist_seen.clear()
        self.publisher.refresh_allowlist()
        received = self._allowlist_seen.wait(ALLOWLIST_WAIT_S)
        return Answer({"version": self.allowlist.version, "received": received})

    def _on_allowlist(self, allowlist: Allowlist) -> None:
        self.allowlist.offer(allowlist)
        self._allowlist_seen.set()

    def record_tap(self, device_id: str, tap: Tap) -> int:
        """Commit the tap to the outbox (before anything else), then wake the publisher."""
        site = self.settings.site
        # judged locally (even offline) by this site's hash; the card travels sealed to the hub
        decision, allowlist_version = self.allowlist.judge(card_hash(self._site_card_key, tap.card))
        data = CheckinData(
            card_sealed=seal_card(self._hub_public_key, tap.card),
            decision=decision,
            allowlist_version=allowlist_version,
        )

        def build(seq: int) -> tuple[str, bytes]:
            event = CheckinEvent(
                id=uuid.uuid4(),
                site=site,
                device=device_id,
                boot=self.boot,
                seq=seq,
                ts=tap.at,
                data=data,
            )
            return topics.event(site, device_id, EventKind.CHECKIN), event.to_bytes()

        seq = self.outbox.append(self.boot, build)
        log.info("tap on %s committed as seq %d", device_id, seq)
        self.publisher.wake()
        return seq

    def record_reading(self, reading: Reading) -> int:
        """Commit a counter or bay reading to the outbox, then wake the publisher."""
        site = self.settings.site

        def build(seq: int) -> tuple[str, bytes]:
            envelope = {
                "id": uuid.uuid4(),
                "site": site,
                "device": reading.device_id,
                "boot": self.boot,
                "seq": seq,
                "ts": reading.at,
            }
            event = (
                BaysEvent(data=reading.data, **envelope)
                if isinstance(reading.data, BaysData)
                else CounterEvent(data=reading.data, **envelope)
            )
            return topics.event(site, reading.device_id, reading.kind), event.to_bytes()

        seq = self.outbox.append(self.boot, build)
        log.debug("%s reading committed as seq %d", reading.device_id, seq)
        self.publisher.wake()
        return seq

    # the venue sign ------------------------------------------------------------------------------

    def show_alert(self, alert: CapacityAlert, wait_s: float = 0.0) -> AlertShown:
        """Show a capacity alert on this site's signs: raised lights the lamp with the figures,
        cleared puts it out. The one entry for ``cmd/alert`` and the ``alert`` command.

        The line's poller writes the signs; this waits up to ``wait_s`` for them to confirm
        (0: not at all, as on paho's thread). A site without a sign logs the alert and drops it.
        """
        what = f"{alert.occupancy} of {alert.capacity} at {alert.threshold_pct:g} %"
        if not self.signs:
            log.info(
                "capacity alert %s at %s (%s): no sign at this site", alert.state, alert.venue, what
            )
            return AlertShown(signs=(), shown=False)
        log.info("capacity alert %s at %s (%s): to the sign(s)", alert.state, alert.venue, what)
        shows = SignShows.of_alert(alert)
        for sign, poller in self.signs:
            sign.show(shows)
            poller.poll_soon(sign.device_id)
        deadline = time.monotonic() + wait_s
        shown = all(
            sign.wait_shown(max(0.0, deadline - time.monotonic())) for sign, _ in self.signs
        )
        return AlertShown(signs=tuple(sign.device_id for sign, _ in self.signs), shown=shown)

    def _alert_from_hub(self, alert: CapacityAlert) -> None:
        self.show_alert(alert)

    def _heartbeat(self) -> bytes:
        stats = self.outbox.stats()
        return Health(
            site=self.settings.site,
            boot=self.boot,
            ts=datetime.now(UTC),
            uptime_s=round(time.monotonic() - self._started, 1),
            outbox_depth=stats.pending,
            oldest_pending_s=(
                None if stats.oldest_pending_age_s is None else round(stats.oldest_pending_age_s, 1)
            ),
            agent_version=AGENT_VERSION,
            devices=[reader.health() for reader in self.readers]
            + [health for poller in self.pollers for health in poller.health()],
        ).to_bytes()


def modbus_lines(
    settings: EdgeSettings, on_reading: Callable[[Reading], object]
) -> tuple[list[ModbusPoller], list[tuple[VenueSign, ModbusPoller]]]:
    """One poller per port: the Modbus devices that share a port share its RS-485 line. Also
    each sign with the poller that owns its line (the only way to write to it)."""
    lines: dict[str, list[ModbusDeviceSettings]] = {}
    for device in settings.devices:
        if not isinstance(device, CardReaderSettings):
            lines.setdefault(device.port, []).append(device)
    pollers: list[ModbusPoller] = []
    signs: list[tuple[VenueSign, ModbusPoller]] = []
    for port, devices in lines.items():
        line = [(line_device(d), poll_options(d)) for d in devices]
        poller = ModbusPoller(port, line, on_reading, baudrate=devices[0].baudrate)
        pollers.append(poller)
        signs += [(d, poller) for d, _ in line if isinstance(d, VenueSign)]
    return pollers, signs


def line_device(device: ModbusDeviceSettings) -> LineDevice:
    if isinstance(device, SignSettings):
        return VenueSign(device.id, device.unit_id)
    if isinstance(device, BaySensorSettings):
        return BaySensor(device.id, device.unit_id, device.bays)
    return PeopleCounter(device.id, device.unit_id)


def poll_options(device: ModbusDeviceSettings) -> PollOptions:
    # a sign publishes nothing, so it has no keepalive of its own
    keepalive_s = (
        PollOptions.keepalive_s if isinstance(device, SignSettings) else device.keepalive_s
    )
    return PollOptions(
        poll_interval_s=device.poll_interval_s,
        keepalive_s=keepalive_s,
        timeout_s=device.timeout_s,
        retries=device.retries,
        degraded_after=device.degraded_after,
    )
