"""The hub's settings: one class, read from ``HUB_*`` environment variables.

No secret has a default outside demo mode, and production is the default mode: a hub without a
broker password refuses to start instead of connecting with a guessable one.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url

from hub.core.broker_tls import tls_context
from mqtt_contract.session import BrokerEndpoint, ProtocolName

MIN_AUDIT_RETENTION_DAYS = 180
"""The audit log is kept at least this long: China's Cybersecurity Law (art. 21) asks network
operators to keep such logs six months (``hub.audit.models.MIN_RETENTION_DAYS``; on PostgreSQL
the table's trigger enforces it too)."""


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///data/hub.db",
        description="SQLAlchemy URL; PostgreSQL as postgresql+psycopg://user:pass@host/db",
    )
    mqtt_url: str = Field(default="mqtt://127.0.0.1:1883", description="mqtt:// or mqtts://")
    mqtt_ca_file: Path | None = Field(
        default=None,
        description="with an mqtts:// HUB_MQTT_URL: the CA certificate the broker's must chain "
        "to (`community broker-certs` makes one); without it, the system's trust store. The "
        "broker's certificate must also name the URL's host. An error with mqtt://. Site "
        "bundles carry a copy",
    )
    mqtt_username: str = "hub"
    mqtt_password: SecretStr | None = None
    mqtt_protocol: ProtocolName = Field(
        default="5", description='"3.1.1" only for the demo\'s embedded amqtt broker'
    )
    mqtt_client_id: str = Field(default="hub-ingest", min_length=1, max_length=64)
    broker_admin_username: str = Field(
        default="broker-admin",
        min_length=1,
        max_length=64,
        description="the broker account `community site` drives Mosquitto's dynamic-security "
        "plugin with; its only right is the plugin's control topic",
    )
    broker_admin_password: SecretStr | None = Field(
        default=None,
        description="that account's password; no default: the site commands and "
        "`community broker-config` ask for it",
    )
    edge_mqtt_url: str | None = Field(
        default=None,
        description="the broker URL written into site bundles (as the edges reach it); "
        "default: mqtt_url",
    )
    mqtt_shared_group: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="subscribe as $share/<group>/... so several workers share the load",
    )
    session_expiry_s: int = Field(default=86_400, gt=0)
    receive_maximum: int = Field(default=5000, ge=1, le=65_535)
    batch_max: int = Field(default=500, ge=1, le=10_000)
    batch_wait_ms: int = Field(
        default=200,
        ge=0,
        le=60_000,
        description="a batch is taken at most this often, so no message waits longer; "
        "a message after a quiet spell goes at once",
    )
    event_max_age_days: float = Field(
        default=400.0,
        gt=0,
        le=36_500,
        description="an event or heartbeat whose device time is older than this when it arrives "
        "is a `clock` dead letter; over a year, so an edge offline that long still delivers",
    )
    event_max_future_s: float = Field(
        default=300.0,
        ge=0,
        le=36_500 * 86_400,
        description="how far ahead of the hub's clock a device time may be (clock skew); "
        "beyond it the message is a `clock` dead letter",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=5000, ge=0, description="how long a SQLite write waits for a lock before failing"
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65_535)
    forwarded_allow_ips: str = Field(
        default="127.0.0.1,::1",
        max_length=2000,
        description="comma-separated addresses or networks (CIDR) of the reverse proxies whose "
        "X-Forwarded-Proto and X-Forwarded-For the hub believes (the scheme and client address "
        "it then sees); `*` trusts any, only where nothing but the proxy can reach the hub's port",
    )
    secrets_dir: Path | None = Field(
        default=None,
        description="a directory of secret files, each named after its variable in lower case "
        "(`hub_mqtt_password`, `hub_card_key`, `hub_database_url`): compose's /run/secrets; a "
        "variable set in the environment wins over its file",
    )
    heartbeat_timeout_s: float = Field(
        default=30.0, gt=0, description="a site or device not heard from for this long is offline"
    )
    site_outbox_events: int = Field(
        default=500,
        ge=1,
        description="a site whose edge holds this many events unreceipted has its outbox backing "
        "up (a healthy edge drains to 0 within a batch's round trip)",
    )
    site_outbox_age_s: float = Field(
        default=90.0,
        gt=0,
        description="... or whose oldest waiting event is this old: three of the edge's resends "
        "(30 s each by default) without a receipt",
    )
    site_commands_window_h: float = Field(
        default=24.0,
        gt=0,
        le=24 * 30,
        description="a command that failed or expired this recently is a problem of its site",
    )
    site_history_step_s: float = Field(
        default=60.0,
        ge=1,
        le=3600,
        description="the sites' heartbeat history keeps one heartbeat a site per step",
    )
    site_history_keep_h: float = Field(
        default=24.0, gt=0, le=24 * 31, description="and keeps it this long"
    )
    mode: Literal["demo", "production"] = Field(
        default="production",
        description="production unless said otherwise: a forgotten setting must not give a hub "
        "that takes an anonymous broker or sends its session cookie over plain HTTP; only "
        "`community demo` and an explicit HUB_MODE=demo relax it",
    )
    public_rate_per_minute: float = Field(
        default=60.0,
        gt=0,
        le=60_000,
        description="requests a minute one client address may keep up on the routes anyone may "
        "call (the public venue pages, a resident's request); past it, 429 with Retry-After",
    )
    public_rate_burst: int = Field(
        default=30,
        ge=1,
        le=10_000,
        description="requests one client address may make at once after a quiet spell",
    )
    public_base_url: str | None = Field(
        default=None,
        max_length=200,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="the address residents reach the hub at (https://venues.example.cn), for the "
        "venues' QR codes; behind a proxy the hub cannot guess it. Unset: the request's own",
    )
    map_tile_url: str | None = Field(
        default=None,
        max_length=300,
        pattern=r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[^\s]*\{z\}[^\s]*$",
        description="the city's raster tile server as a URL template with {z}, {x} and {y} "
        "(https://tiles.example.cn/{z}/{x}/{y}.png); the maps' pages may load images from its "
        "origin and nowhere else. Unset: no tiles, the venues over the uploaded outlines",
    )
    request_rate_per_minute: float = Field(
        default=2.0,
        gt=0,
        le=600,
        description="residents' service requests a minute one client address may keep up "
        "(POST /public/v1/service-requests, a bucket of its own); past it, 429 with Retry-After",
    )
    request_rate_burst: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="residents' service requests one client address may send at once",
    )
    request_deadline_days: dict[str, float] = Field(
        default_factory=dict,
        description="days to resolve a service request, per category, as JSON "
        '({"设施维修": 3}): overrides or adds to the default table (docs/service-requests.md)',
    )
    request_escalation_interval_s: float = Field(
        default=300.0,
        gt=0,
        le=86_400,
        description="how often the hub looks for service requests past their deadline",
    )
    metrics_public: bool = Field(
        default=False,
        description="serve /metrics without a token (for a Prometheus on a trusted network); "
        "otherwise it needs an operator's token",
    )
    session_ttl_h: float = Field(
        default=12.0, gt=0, le=24 * 30, description="how long a dashboard login lasts"
    )
    login_code_ttl_s: float = Field(
        default=600.0,
        gt=0,
        le=86_400,
        description="how long a one-click login link (a single-use code) may wait to be used",
    )
    stream_keepalive_s: float = Field(
        default=15.0,
        gt=0,
        le=300,
        description="a live stream sends a keep-alive and checks its credentials again this "
        "often: a revoked, logged-out or expired user's stream ends within it",
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="mark the session cookie Secure (sent over HTTPS only); default: on in "
        "production, off in demo",
    )
    card_key: SecretStr | None = Field(
        default=None,
        description="the city-wide card key (HMAC) of the card hashes the hub keeps; at least 16 "
        "bytes; stays at the hub: each edge gets its site's key derived from it",
    )
    card_private_key_file: Path | None = Field(
        default=None,
        description="the hub's X25519 card key (`community cards keygen`, mode 0600): opens the "
        "cards the edges seal, and the members' card vault",
    )
    accept_city_card_hash: bool | None = Field(
        default=None,
        description="accept check-ins that carry the city-wide card_hash (edges not yet "
        "upgraded to sealed cards); default: on in demo, off in production",
    )
    allowlist_interval_s: float = Field(
        default=5.0, gt=0, description="how often the records are checked for allowlist changes"
    )
    command_interval_s: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="how often the commands are checked for ones to send, resend or expire",
    )
    influx_url: str | None = Field(
        default=None, description="InfluxDB 2 URL for raw telemetry; the sink is off when unset"
    )
    influx_token: SecretStr | None = None
    influx_org: str = "yuanping"
    influx_bucket: str = "telemetry"
    influx_queue_max: int = Field(
        default=50_000, ge=1, description="points held for InfluxDB; beyond it the oldest go"
    )
    influx_batch_size: int = Field(default=2_000, ge=1, le=50_000)
    influx_flush_ms: int = Field(default=1_000, ge=10, description="longest wait to fill a batch")
    influx_timeout_ms: int = Field(default=5_000, ge=100, description="per write request")
    influx_retries: int = Field(default=3, ge=0, le=20, description="then the batch is dropped")
    occupancy_tick_s: float = Field(
        default=5.0, gt=0, description="how often rollups, closing resets and alerts are looked at"
    )
    occupancy_live_ms: int = Field(
        default=1_000,
        ge=0,
        description="live occupancy of the venues readings touched is recomputed this often; "
        "0: after every ingest batch",
    )
    body_max_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="largest request body of the API (JSON), refused with 413 before it is read",
    )
    import_max_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        description="largest roster file uploaded to /api/v1/imports (CSV or XLSX)",
    )
    import_max_rows: int = Field(
        default=50_000,
        ge=1,
        description="rows of a roster file, and of an export; an .xlsx may unpack to 1,342 bytes "
        "and hold 80 XML tags a row (64 MiB and 4 million for 50,000)",
    )
    imports_at_once: int = Field(
        default=1, ge=1, le=16, description="roster imports parsed at once; more get 503"
    )
    audit_retention_days: int | None = Field(
        default=None,
        le=36_500,
        description="audit log rows older than this many days are purged (by the hub every few "
        "hours, and by `community audit purge`); at least 180; unset: kept forever",
    )

    retain_checkins_after_year_days: int = Field(
        default=90,
        ge=0,
        le=366,
        description="raw check-ins (card hash, place, time) of a year are kept this many days "
        "into the next, until its dual-reporting assessment is done, then reduced to attendance "
        "(docs/retention.md)",
    )
    retain_readings_days: int = Field(
        default=14,
        ge=1,
        le=3650,
        description="raw counter and bay readings are kept this many days once their occupancy "
        "rollups exist (a reading still waiting for its rollup is kept)",
    )
    retain_dead_letters_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="messages that did not validate are kept this many days, raw",
    )
    retain_notifications_days: int = Field(
        default=90,
        ge=7,
        le=3650,
        description="notifications sent (what, where, to whom, the receiver's answer) are kept "
        "this many days for the operators' log",
    )
    retain_sessions_days: int = Field(
        default=0,
        ge=0,
        le=365,
        description="expired dashboard sessions and login codes go this many days after they "
        "expired (0: at the next run)",
    )
    retention_interval_h: float = Field(
        default=6.0,
        gt=0,
        le=24 * 7,
        description="how often the hub's retention job runs (first at start)",
    )
    notify_enabled: bool = Field(
        default=True, description="run the notifications' watcher and dispatcher (hub.notify)"
    )
    notify_poll_s: float = Field(
        default=3.0, gt=0, le=300, description="how often the notifier looks for news and sends"
    )
    notify_lookback_h: float = Field(
        default=1.0,
        gt=0,
        le=24 * 7,
        description="alerts and commands older than this when first seen are not notified (a "
        "hub that starts does not announce its history)",
    )
    notify_offline_after_s: float = Field(
        default=600.0, ge=30, le=7 * 86_400, description="an edge or reader silent this long"
    )
    notify_dead_letter_surge: int = Field(
        default=50, ge=1, le=1_000_000, description="dead letters in one window that notify"
    )
    notify_dead_letter_window_s: float = Field(default=600.0, ge=10, le=86_400)
    notify_max_attempts: int = Field(default=8, ge=1, le=50)
    notify_backoff_s: float = Field(
        default=30.0, gt=0, le=3600, description="the first retry's wait; doubled each time"
    )
    notify_backoff_max_s: float = Field(default=3600.0, gt=0, le=86_400)
    notify_timeout_s: float = Field(
        default=10.0, gt=0, le=60, description="every HTTP or SMTP call to a receiver"
    )
    notify_webhook_hosts: str = Field(
        default="qyapi.weixin.qq.com,oapi.dingtalk.com",
        max_length=2000,
        description="comma-separated hosts a webhook may be sent to (https only, plain http "
        "only to a loopback host listed here)",
    )
    smtp_host: str | None = Field(default=None, max_length=253)
    smtp_port: int = Field(default=587, ge=1, le=65_535)
    smtp_user: str | None = Field(default=None, max_length=320)
    smtp_password: SecretStr | None = Field(default=None, description="no default")
    smtp_from: str | None = Field(default=None, max_length=320)
    smtp_starttls: bool = Field(default=True, description="STARTTLS after connecting")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then ``HUB_*`` variables, then the files of ``HUB_SECRETS_DIR``: secrets
        stay out of the environment, where ``docker inspect`` and /proc would show them."""
        secrets_dir = os.environ.get("HUB_SECRETS_DIR")
        if not secrets_dir or not Path(secrets_dir).is_dir():
            return (init_settings, env_settings)  # a bad directory is named by its validator
        return (init_settings, env_settings, SecretsSettingsSource(settings_cls, secrets_dir))

    @field_validator("request_deadline_days")
    @classmethod
    def _check_request_deadlines(cls, value: dict[str, float]) -> dict[str, float]:
        if len(value) > 100:
            raise ValueError("at most 100 categories")
        for category, days in value.items():
            if not 1 <= len(category) <= 64:
                raise ValueError(f"category {category[:64]!r}: 1 to 64 characters")
            if not 0 < days <= 365:
                raise ValueError(f"{category}: days must be more than 0 and at most 365")
        return value

    @field_validator("secrets_dir")
    @classmethod
    def _check_secrets_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"HUB_SECRETS_DIR={value}: not a directory")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _check_forwarded_allow_ips(cls, value: str) -> str:
        for entry in (e.strip() for e in value.split(",")):
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"HUB_FORWARDED_ALLOW_IPS: {entry!r} is not an address, a network or *"
                ) from None
        return value

    @field_validator("audit_retention_days")
    @classmethod
    def _check_audit_retention(cls, value: int | None) -> int | None:
        if value is not None and value < MIN_AUDIT_RETENTION_DAYS:
            raise ValueError(
                f"HUB_AUDIT_RETENTION_DAYS={value}: the audit log must be kept at least "
                f"{MIN_AUDIT_RETENTION_DAYS} days (China's Cybersecurity Law, art. 21: six "
                "months); leave it unset to keep it forever"
            )
        return value

    @field_validator("mqtt_url", "edge_mqtt_url")
    @classmethod
    def _check_mqtt_url(cls, value: str | None) -> str | None:
        if value is not None:
            BrokerEndpoint.parse(value)
        return value

    @model_validator(mode="after")
    def _check_broker_tls(self) -> HubSettings:
        endpoint = BrokerEndpoint.parse(self.mqtt_url, ca_file=self.mqtt_ca_file)
        if endpoint.tls:
            tls_context(self.mqtt_ca_file)  # a missing or broken CA file is named now
        return self

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        try:
            backend = make_url(value).get_backend_name()
        except Exception as exc:
            raise ValueError(f"not a database URL: {exc}") from None
        if backend not in {"sqlite", "postgresql"}:
            raise ValueError(f"the hub supports SQLite and PostgreSQL, not {backend!r}")
        return value

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> HubSettings:
        if self.mode == "production" and self.mqtt_password is None:
            raise ValueError(
                "production mode needs a broker password: set HUB_MQTT_PASSWORD "
                "(or run with HUB_MODE=demo)"
            )
        if self.broker_admin_username == self.mqtt_username:
            raise ValueError(
                "the broker admin (HUB_BROKER_ADMIN_USERNAME) must not be the hub's own account"
            )
        if self.card_key is not None and len(self.card_key.get_secret_value().encode()) < 16:
            raise ValueError("HUB_CARD_KEY must be at least 16 bytes")
        if self.mode == "production" and self.card_key is None:
            raise ValueError(
                "production mode needs the city card key the hub hashes cards with: set "
                "HUB_CARD_KEY (or run with HUB_MODE=demo)"
            )
        if self.mode == "production" and self.card_private_key_file is None:
            raise ValueError(
                "production mode needs the hub's card key file that opens sealed cards: set "
                "HUB_CARD_PRIVATE_KEY_FILE (make one with `community cards keygen`)"
            )
        return self

    @model_validator(mode="after")
    def _influx_token_in_production(self) -> HubSettings:
        if self.mode == "production" and self.influx_url and self.influx_token is None:
            raise ValueError(
                "production mode needs an InfluxDB token with HUB_INFLUX_URL: set "
                "HUB_INFLUX_TOKEN (or leave HUB_INFLUX_URL unset to turn the sink off)"
            )
        return self

    @property
    def session_cookie_secure(self) -> bool:
        return self.mode == "production" if self.cookie_secure is None else self.cookie_secure

    @property
    def accepts_city_card_hash(self) -> bool:
        if self.accept_city_card_hash is None:
            return self.mode == "demo"
        return self.accept_city_card_hash

    def card_key_bytes(self) -> bytes:
        """The card key, or a clear error for the commands that cannot work without it."""
        if self.card_key is None:
            raise ValueError(
                "no card key: set HUB_CARD_KEY (the city key the hub hashes cards with)"
            )
        return self.card_key.get_secret_value().encode()

    @property
    def broker(self) -> BrokerEndpoint:
        """Every hub connection dials this: TLS and its CA file come with it."""
        return BrokerEndpoint.parse(self.mqtt_url, ca_file=self.mqtt_ca_file)

    def plain_broker_warning(self) -> str | None:
        """A production hub whose broker is on another machine without TLS: said at start.

        A warning, not a refusal: a hub and broker on one private network (the compose file's,
        a host's own containers) may be trusted with plain MQTT, and the edges, which cross the
        city's network, are fenced by the broker offering them TLS alone (docs/security.md)."""
        broker = self.broker
        if self.mode != "production" or broker.tls or broker.loopback:
            return None
        return (
            f"the broker at {broker.url} is reached without TLS: the hub's password and every "
            "message cross the network in clear; use mqtts:// with HUB_MQTT_CA_FILE "
            "(docs/security.md) unless that network is the hub's and the broker's alone"
        )

    @property
    def edge_broker_url(self) -> str:
        """What a site's bundle tells its edge to connect to."""
        return self.edge_mqtt_url or self.mqtt_url

    def database_url_for_display(self) -> str:
        return make_url(self.database_url).render_as_string(hide_password=True)

    def describe(self) -> str:
        """Where this hub connects, with no secret in it: for the start-up log line."""
        return (
            f"broker {self.mqtt_url}"
            + (f" (CA {self.mqtt_ca_file})" if self.mqtt_ca_file else "")
            + f" as {self.mqtt_username!r} (MQTT {self.mqtt_protocol}, "
            f"client id {self.mqtt_client_id!r}"
            + (f", shared group {self.mqtt_shared_group!r}" if self.mqtt_shared_group else "")
            + f"), database {self.database_url_for_display()}"
        )


def settings_for_cli(database_url: str | None, prog: str) -> HubSettings | None:
    """The hub's settings for a command run by hand (no broker secret needed to start it);
    ``--database-url`` wins; ``None`` after printing why they are invalid."""
    overrides: dict[str, Any] = {"mode": "demo"}
    if database_url:
        overrides["database_url"] = database_url
    try:
        return HubSettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]) for e in exc.errors(include_url=False))
        sys.stderr.write(f"{prog}: invalid settings: {problems}\n")
        return None
