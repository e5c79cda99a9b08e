"""Issue 9 item 8: what is on one edge box (config, allowlist file, outbox) reveals at most that
site's cards; the hub opens sealed cards, keeps the city-wide hash, and fills the card vault.

Card numbers have 2**40 values; these tests let the attacker try a reduced space (cards that
differ in their low bits) with every key the box holds, as a real attacker would try them all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import stat
import tomllib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from nacl.public import PrivateKey, SealedBox
from pydantic import SecretStr, ValidationError
from sqlalchemy import Engine

from demo.cli import CARD_KEY_FILE, demo_card_keys, load_credentials
from edge.agent import EdgeAgent
from edge.allowlist import path_beside
from edge.card_reader import Tap
from edge.config import load_settings
from hub.core.card_keys import CardKeyError, card_keys
from hub.core.settings import HubSettings
from hub.ingest.cards import CardPolicy
from hub.ingest.decode import decode
from hub.ingest.events import DeadLetterRecord, EventRecord, InboundMessage
from hub.org.allowlist import current_allowlists
from hub.org.cards import learn_vault
from hub.org.cards_cli import main as cards_main
from hub.org.models import Member
from mqtt_contract import topics
from mqtt_contract.card_seal import open_card, seal_card
from mqtt_contract.credentials import card_hash
from mqtt_contract.models import CheckinData, CheckinEvent
from mqtt_contract.topics import EventKind
from tests.hub.demo_sites import demo_sites
from tests.hub.org.support import City
from tests.hub.support import (
    BOOT,
    CARD_KEY,
    CARD_KEYS,
    CARDS,
    T0,
    Db,
    EdgeClient,
    StartWorker,
    card_key_file,
    checkin,
    wait_until,
)

SPACE = [f"00000000{n:02X}" for n in range(256)]
"""The attacker's reduced card space: 256 cards differing in the low 8 bits."""
HOME = SPACE[1:5]  # members served by centre-01
AWAY = SPACE[10:14]  # members served by centre-02; AWAY[0] visits centre-01 and taps there
HEX64 = re.compile(rb"[0-9a-f]{64}")


def two_centres(city: City) -> None:
    unit = city.add_unit("U01")
    other = city.add_community("C02", "康乐社区")
    city.add_centre("centre-02", other)
    for card in HOME:
        city.add_member(unit, card=card)
    for card in AWAY:
        city.add_member(unit, card=card, community=other)
    city.commit()


def guess(key: bytes, card: str) -> str:
    """The attacker's HMAC, with any key (no length rule)."""
    return hmac.new(key, card.encode(), hashlib.sha256).hexdigest()


def keys_on(config: Path) -> list[bytes]:
    """Every string in an edge's config, as a key an attacker would try."""
    found: list[bytes] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.append(value.encode())
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(tomllib.loads(config.read_text()))
    return found


def test_one_stolen_edge_box_reveals_only_its_own_sites_cards(
    city: City,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    two_centres(city)
    # The edge's config as an operator makes it: the lines `community cards site-key` prints.
    monkeypatch.setenv("HUB_CARD_KEY", CARD_KEY.decode())
    monkeypatch.setenv("HUB_CARD_PRIVATE_KEY_FILE", str(card_key_file(tmp_path)))
    assert cards_main(["site-key", "centre-01"]) == 0
    box = tmp_path / "box"
    box.mkdir()
    config = box / "edge.toml"
    config.write_text(
        f'site = "centre-01"\nmode = "demo"\noutbox_path = "{box / "outbox.db"}"\n'
        + capsys.readouterr().out
        + f'[[devices]]\nid = "reader-1"\nport = "{box / "reader.tty"}"\n'
    )
    lists = {a.site: a for a, _ in current_allowlists(engine, CARD_KEYS)}
    agent = EdgeAgent(load_settings(config))
    try:
        assert agent.allowlist.offer(lists["centre-01"])  # kept on disk beside the outbox
        for card in [*HOME[:2], AWAY[0]]:  # two members and a visitor from centre-02 tap
            agent.record_tap("reader-1", Tap(card, datetime.now(UTC)))
    finally:
        agent.outbox.close()
    assert path_beside(box / "outbox.db").exists()

    keys = keys_on(config)
    on_box = {m.decode() for f in box.iterdir() for m in HEX64.findall(f.read_bytes())}
    revealed = {c for c in SPACE for k in keys if guess(k, c) in on_box}
    assert revealed == set(HOME), "the box reveals its own members' cards, nothing else"
    assert AWAY[0] not in revealed, "a visitor's tap is sealed: the outbox does not reveal it"

    # Nor can the box's keys reach any other site's list or the city-wide pseudonyms.
    reachable = {guess(k, c) for c in SPACE for k in keys}
    elsewhere = set(lists["centre-02"].card_hashes) | {card_hash(CARD_KEY, c) for c in SPACE}
    assert lists["centre-02"].card_hashes, "the other site has a list to protect"
    assert not reachable & elsewhere
    assert CARD_KEY not in config.read_bytes()


def test_the_demo_writes_no_city_key_into_edge_configs(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    data_dir.mkdir()
    gate = {"id": "gate-1", "kind": "people_counter", "port": "/dev/ttyUSB0", "unit_id": 1}
    creds, _, bundles = demo_sites(data_dir, ["centre-01"], {"venue-01": [gate]})
    key_file = data_dir / CARD_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600, "made on first run, private"
    private = key_file.read_text().strip()
    keys = demo_card_keys(data_dir, creds)
    for site in ("centre-01", "venue-01"):
        path = bundles[site]
        text = path.read_text()
        assert creds["card_key"] not in text, "the city key stays at the hub"
        assert private not in text, "so does the hub's private key"
        settings = load_settings(path)
        assert settings.site_card_key.get_secret_value() == keys.site_key(site)
        assert settings.hub_card_public_key == keys.public_key
    load_credentials(data_dir)
    assert key_file.read_text().strip() == private, "a restart keeps the key"


def sealed_checkin(card: str, seq: int, *, public: PrivateKey | None = None) -> CheckinEvent:
    key = (public or CARD_KEYS.private_key).public_key
    return CheckinEvent(
        id=uuid.uuid4(),
        site="centre-01",
        device="reader-1",
        boot=BOOT,
        seq=seq,
        ts=T0,
        data=CheckinData(card_sealed=seal_card(key, card)),
    )


def arriving(event: CheckinEvent | bytes) -> InboundMessage:
    payload = event.to_bytes() if isinstance(event, CheckinEvent) else event
    return InboundMessage(
        topics.event("centre-01", "reader-1", EventKind.CHECKIN),
        payload,
        mid=1,
        qos=1,
        retained=False,
        received_at=T0,
        generation=1,
    )


def test_a_sealed_card_is_kept_as_its_city_hash() -> None:
    record = decode(arriving(sealed_checkin(HOME[0], 1)), cards=CARDS)
    assert isinstance(record, EventRecord)
    assert isinstance(record.event, CheckinEvent)
    assert record.event.data.pseudonym == card_hash(CARD_KEY, HOME[0])


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"card_sealed": seal_card(PrivateKey.generate().public_key, HOME[0])}, "does not open"),
        ({"card_sealed": seal_card(CARD_KEYS.private_key.public_key, "0A1B2C3D4E")[:-8] + "AAAA"},
         "does not open"),
        ({"card_sealed": "bm90IGEgc2VhbA=="}, "does not open"),
        ({"card_hash": card_hash(CARD_KEY, HOME[0])}, "HUB_ACCEPT_CITY_CARD_HASH"),
    ],
)  # fmt: skip
def test_a_card_the_hub_cannot_take_is_a_receipted_dead_letter(
    data: dict[str, str], reason: str
) -> None:
    event = sealed_checkin(HOME[0], 7).model_dump(mode="json")
    event["data"] = data
    payload = CheckinEvent.model_validate(event).to_bytes()
    letter = decode(arriving(payload), cards=CARDS)
    assert isinstance(letter, DeadLetterRecord)
    assert (letter.kind, letter.receipt is not None) == ("card", True)
    assert reason in letter.reason


def test_a_seal_of_something_that_is_no_card_is_a_dead_letter() -> None:
    junk = base64.b64encode(SealedBox(CARD_KEYS.private_key.public_key).encrypt(b"<script>"))
    event = sealed_checkin(HOME[0], 8).model_copy(
        update={"data": CheckinData(card_sealed=junk.decode())}
    )
    letter = decode(arriving(event), cards=CARDS)
    assert isinstance(letter, DeadLetterRecord)
    assert letter.kind == "card"
    assert "not to a card number" in letter.reason


def test_city_hashes_of_old_edges_are_taken_only_in_the_migration_window() -> None:
    old = sealed_checkin(HOME[0], 9).model_copy(
        update={"data": CheckinData(card_hash=card_hash(CARD_KEY, HOME[0]))}
    )
    window = CardPolicy(CARD_KEYS, accept_city_hash=True)
    assert isinstance(decode(arriving(old), cards=window), EventRecord)
    assert isinstance(decode(arriving(old), cards=CARDS), DeadLetterRecord)
    assert HubSettings(mode="demo").accepts_city_card_hash
    production = HubSettings.model_construct(mode="production", accept_city_card_hash=None)
    assert not production.accepts_city_card_hash
    opened = HubSettings.model_construct(mode="production", accept_city_card_hash=True)
    assert opened.accepts_city_card_hash


def test_a_check_in_carries_one_card_form_only() -> None:
    sealed = seal_card(CARD_KEYS.private_key.public_key, HOME[0])
    with pytest.raises(ValidationError, match="exactly one of card_sealed and card_hash"):
        CheckinData(card_sealed=sealed, card_hash=card_hash(CARD_KEY, HOME[0]))
    with pytest.raises(ValidationError, match="exactly one"):
        CheckinData()


def test_sealed_check_ins_become_attendance_and_fill_the_vault(
    city: City,
    start_worker: StartWorker,
    edge: Callable[..., EdgeClient],
    db: Db,
    engine: Engine,
) -> None:
    unit = city.add_unit("U01")
    enrolled = city.add_member(unit, card=HOME[0])
    legacy = city.add_member(unit, card=HOME[1])
    legacy.card_sealed = None  # enrolled before the vault: only its city hash is known
    city.commit()
    (before,) = [a for a, _ in current_allowlists(engine, CARD_KEYS) if a.site == "centre-01"]
    assert CARD_KEYS.site_hash("centre-01", HOME[0]) in before.card_hashes
    assert CARD_KEYS.site_hash("centre-01", HOME[1]) not in before.card_hashes, (
        "without a vault entry the member is missing from the allowlist"
    )
    vault_before = enrolled.card_sealed

    start_worker()
    centre = edge("centre-01")
    taps = [checkin(1, card=HOME[0]), checkin(2, card=HOME[1])]
    bad = sealed_checkin(HOME[2], 3, public=PrivateKey.generate())
    centre.publish_events([*taps, bad])
    wait_until(lambda: len(centre.receipted()) == 3, what="three receipts")

    rows = db.rows("SELECT member_id, card_hash FROM attendance ORDER BY at, event_id")
    assert {r.member_id for r in rows} == {enrolled.id, legacy.id}, "both taps matched"
    letters = db.rows("SELECT reason_kind, reason FROM dead_letters")
    assert [(r.reason_kind, "does not open" in r.reason) for r in letters] == [("card", True)]

    vault = {r.id: r.card_sealed for r in db.rows("SELECT id, card_sealed FROM members")}
    assert vault[enrolled.id] == vault_before, "a vault entry is never replaced by a tap"
    assert vault[legacy.id] is not None, "learnt from the tap"
    assert open_card(CARD_KEYS.private_key, vault[legacy.id]) == HOME[1]
    (allowlist,) = [a for a, _ in current_allowlists(engine, CARD_KEYS) if a.site == "centre-01"]
    assert CARD_KEYS.site_hash("centre-01", HOME[1]) in allowlist.card_hashes


def test_learning_fills_only_an_empty_vault(city: City, engine: Engine) -> None:
    unit = city.add_unit("U01")
    member = city.add_member(unit, card=HOME[0])
    member.card_sealed = None
    city.commit()
    tap = decode(arriving(sealed_checkin(HOME[0], 11)), cards=CARDS)
    assert isinstance(tap, EventRecord)
    with engine.begin() as conn:
        assert learn_vault(conn, [tap.event]) == 1
        assert learn_vault(conn, [tap.event]) == 0, "filled once"
    with engine.connect() as conn:
        sealed = conn.scalar(sa.select(Member.card_sealed).where(Member.id == member.id))
    assert sealed is not None
    assert CARD_KEYS.open(sealed) == HOME[0]


def test_production_refuses_to_start_without_the_card_key_file(tmp_path: Path) -> None:
    base = {"mode": "production", "mqtt_password": SecretStr("pw"), "card_key": SecretStr("k" * 16)}
    with pytest.raises(ValidationError, match="HUB_CARD_PRIVATE_KEY_FILE"):
        HubSettings(**base)
    missing = HubSettings(**base, card_private_key_file=tmp_path / "nope")
    with pytest.raises(CardKeyError, match="no card key file"):
        card_keys(missing)
    (tmp_path / "bad").write_text("not base64 !")
    with pytest.raises(CardKeyError, match="not base64"):
        card_keys(HubSettings(**base, card_private_key_file=tmp_path / "bad"))


def test_hub_main_stops_when_its_card_key_file_is_unusable(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from hub.server import main  # noqa: PLC0415

    for name, value in {
        "HUB_MODE": "production",
        "HUB_MQTT_PASSWORD": "pw",
        "HUB_CARD_KEY": CARD_KEY.decode(),
        "HUB_CARD_PRIVATE_KEY_FILE": str(tmp_path / "missing"),
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["--database-url", f"sqlite:///{tmp_path / 'hub.db'}"]) == 2
    assert "no card key file" in caplog.text + capsys.readouterr().err


def test_cards_cli_makes_a_key_once_and_prints_what_an_edge_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "keys" / "card-key"
    assert cards_main(["keygen", "--out", str(path)]) == 0
    public = capsys.readouterr().out.strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert cards_main(["keygen", "--out", str(path)]) == 1, "never overwritten"
    assert "never overwritten" in capsys.readouterr().err
    monkeypatch.setenv("HUB_CARD_PRIVATE_KEY_FILE", str(path))
    assert cards_main(["public-key"]) == 0
    assert capsys.readouterr().out.strip() == public
    assert cards_main(["site-key", "centre-01"]) == 1, "needs the city key"
    monkeypatch.setenv("HUB_CARD_KEY", CARD_KEY.decode())
    assert cards_main(["site-key", "Not A Site"]) == 1
    assert cards_main(["site-key", "centre-01"]) == 0
    lines = tomllib.loads(capsys.readouterr().out)
    keys = card_keys(HubSettings(mode="demo", card_key=SecretStr(CARD_KEY.decode()),
                                 card_private_key_file=path))  # fmt: skip
    assert keys is not None
    assert lines == {"site_card_key": keys.site_key("centre-01"), "hub_card_public_key": public}
