"""Security headers on pages, assets and API answers alike; ``/docs`` served from the package
(Swagger UI vendored from npm at its pin), never from a CDN. (That the pages satisfy their
policy is checked in Chromium: tests/dashboards/test_security.py.)"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator

import httpx
import pytest

from hub.api import create_app
from hub.core.settings import HubSettings
from tests.hub.auth.support import ROOT
from tests.hub.support import ApiServer

VENDOR = ROOT / "dashboards" / "web" / "vendor" / "swagger-ui"
COMMON = {
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}


@pytest.fixture
def api(db_settings: HubSettings) -> Iterator[ApiServer]:
    with ApiServer(create_app(db_settings), anonymous=True) as server:
        yield server


def policy(response: httpx.Response) -> dict[str, str]:
    header = response.headers["content-security-policy"]
    return dict(part.strip().partition(" ")[::2] for part in header.split(";"))


def test_every_answer_carries_the_headers(api: ApiServer) -> None:
    answers = {
        path: api.http.get(path)
        for path in (
            "/",
            "/login",
            "/docs",
            "/js/pages/login.js",
            "/healthz",
            "/openapi.json",
            "/api/v1/me",
            "/api/v1/nothing-here",
        )
    }
    answers["POST /api/v1/session"] = api.http.post("/api/v1/session", json={"token": "yp_x"})
    for name, response in answers.items():
        for header, value in COMMON.items():
            assert response.headers.get(header) == value, (name, header)
        assert policy(response)["frame-ancestors"] == "'none'", name
    for page in ("/", "/login"):
        rules = policy(answers[page])
        assert rules["script-src"] == "'self'", "no inline script, no eval"
        assert rules["style-src"] == "'self'"
        assert rules["default-src"] == "'self'"
        assert rules["object-src"] == "'none'"
    for answer in ("/healthz", "/api/v1/me", "/js/pages/login.js"):
        assert policy(answers[answer])["default-src"] == "'none'", answer
    assert answers["/api/v1/me"].status_code == 401


def test_the_api_docs_come_from_the_package(api: ApiServer) -> None:
    page = api.http.get("/docs")
    assert page.status_code == 200
    assert policy(page)["script-src"] == "'self'", "no inline script on /docs either"
    assert "<script>" not in page.text, "the page starts Swagger UI from a file"
    sources = re.findall(r"""(?:src|href)="([^"]+)\"""", page.text)
    assert sources, page.text
    assert all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    for source in sources:
        assert api.http.get(source).status_code == 200, source
    assert api.http.get("/redoc").status_code == 404, "ReDoc would load from a CDN: it is off"

    manifest = json.loads((VENDOR / "vendor.json").read_text())
    script = (ROOT / "dashboards" / "vendor.sh").read_text()
    assert f"SWAGGER_UI_VERSION:-{manifest['version']}" in script
    for name, digest in manifest["files"].items():
        actual = hashlib.sha256((VENDOR / name).read_bytes()).hexdigest()
        assert digest == f"sha256:{actual}", f"{name} differs from the vendored release"
    assert "Apache License" in (VENDOR / "LICENSE").read_text()
