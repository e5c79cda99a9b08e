"""The notification settings API: one's own channels, write-only targets and secrets (masked in
answers, redacted in the audit log), the SSRF guard at the door, a test message, the log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from hub.api import create_app
from hub.auth import Role
from hub.core.settings import HubSettings
from tests.hub.notify.receivers import DINGTALK_SECRET, Robots, start_robots
from tests.hub.support import ApiServer
from tests.hub.venues.support import register_venue
from tests.users import bearer, user_token

TOKEN = "tok-must-never-show-0123456789"
CHANNELS = "/api/v1/me/notification-channels"
SETTINGS = "/api/v1/me/notification-settings"


@pytest.fixture
def robots() -> Iterator[Robots]:
    r = start_robots()
    yield r
    r.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_channels_are_write_only_guarded_and_testable(
    db_settings: HubSettings, engine: Engine, robots: Robots
) -> None:
    settings = db_settings.model_copy(
        update={"notify_webhook_hosts": "127.0.0.1,oapi.dingtalk.com,qyapi.weixin.qq.com"}
    )
    register_venue(engine, "venue-a1", unit="体育中心")
    with ApiServer(create_app(settings)) as api:
        http = api.http
        initial = http.get(SETTINGS).json()
        assert initial["events"] == []
        assert initial["channels"] == []
        assert "capacity_alert" in initial["available_events"]

        for bad in ("http://10.0.0.1/robot/send", "https://evil.example/hook", "file:///etc/x"):
            body = {"kind": "webhook", "name": "坏", "target": bad}
            refused = http.post(CHANNELS, json=body)
            assert refused.status_code == 422, bad
            assert refused.json()["detail"][0]["loc"] == ["body", "target"]
        unsigned = {"kind": "dingtalk", "name": "钉钉", "target": f"{robots.url}/dingtalk?x=1"}
        assert http.post(CHANNELS, json=unsigned).status_code == 422, "DingTalk needs its secret"
        mail = {"kind": "email", "name": "邮箱", "target": "not-an-address"}
        assert http.post(CHANNELS, json=mail).status_code == 422

        target = f"{robots.url}/dingtalk?access_token={TOKEN}"
        made = http.post(
            CHANNELS,
            json={
                "kind": "dingtalk",
                "name": "值班群",
                "target": target,
                "secret": DINGTALK_SECRET,
            },
        )
        assert made.status_code == 201, made.text
        channel = made.json()
        assert channel["has_secret"] is True
        assert TOKEN not in made.text
        assert DINGTALK_SECRET not in made.text
        shown = http.get(SETTINGS)
        assert TOKEN not in shown.text
        assert DINGTALK_SECRET not in shown.text
        assert shown.json()["channels"][0]["target_masked"].startswith("http://127.0.0.1/")

        tested = http.post(f"{CHANNELS}/{channel['id']}/test")
        assert tested.json()["ok"] is True, tested.text
        (got,) = robots.at("/dingtalk")
        assert got.problems == []
        assert got.query["access_token"] == TOKEN

        half = http.put(SETTINGS, json={"events": ["capacity_alert"], "quiet_from": "22:00"})
        assert half.status_code == 422
        put = http.put(
            SETTINGS,
            json={
                "events": ["capacity_alert", "site_offline"],
                "quiet_from": "22:00",
                "quiet_to": "07:00",
                "digest": True,
            },
        )
        assert put.status_code == 200, put.text
        assert put.json()["events"] == ["capacity_alert", "site_offline"]
        assert put.json()["digest"] is True
        assert http.put(SETTINGS, json={"events": ["nonsense"]}).status_code == 422

        (unit,) = [r[0] for r in engine.connect().execute(text("SELECT id FROM units"))]
        manager = bearer(user_token(settings.database_url, Role.VENUE_MANAGER, unit=unit))
        theirs = http.delete(f"{CHANNELS}/{channel['id']}", headers=manager)
        assert theirs.status_code == 404, "another user's channel is not theirs to delete"
        viewer = bearer(user_token(settings.database_url, Role.VIEWER))
        assert http.get(SETTINGS, headers=viewer).status_code == 403
        assert http.get("/api/v1/notifications", headers=manager).status_code == 403
        log = http.get("/api/v1/notifications")
        assert log.status_code == 200
        assert log.json()["count"] == 0

        assert http.delete(f"{CHANNELS}/{channel['id']}").status_code == 204
        assert http.get(SETTINGS).json()["channels"] == []

    with engine.connect() as conn:
        audit = [
            str(tuple(r))
            for r in conn.execute(
                text("SELECT * FROM audit_log WHERE table_name = 'notification_channels'")
            )
        ]
    assert len(audit) == 2, "the channel's creation and deletion are in the audit log"
    assert all(TOKEN not in row and DINGTALK_SECRET not in row for row in audit)
