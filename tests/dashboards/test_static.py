"""The dashboard's files without a browser: catalogues complete and in step, no literal text in
pages or scripts, the vendored library intact, the wheel carrying it all, the hub serving it."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from hatchling.builders.wheel import WheelBuilder

from hub.api import create_app
from hub.api.dashboard.static import page_paths, web_root
from hub.auth import Permission
from hub.core.db import upgrade
from hub.core.settings import HubSettings
from tests.dashboards.support import CJK, ROOT, ApiThread

WEB = ROOT / "dashboards" / "web"
CATALOGUES = {lang: WEB / "i18n" / f"{lang}.json" for lang in ("zh-CN", "en")}
SCRIPTS = sorted((WEB / "js").rglob("*.js"))
PAGES = sorted(WEB.glob("*.html"))
PLACEHOLDER = re.compile(r"\{(\w+)\}")
KEY_LITERAL = re.compile(r"""["']([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)["']""")
KEY_PREFIX = re.compile(r"`([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*\.)\$\{")
ATTR_KEYS = re.compile(r"""data-i18n(?:-attr)?=["']([^"']+)["']|i18nAttr:\s*["']([^"']+)["']""")


def catalogue(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads(CATALOGUES[lang].read_text(encoding="utf-8"))
    return data


def used_keys() -> tuple[set[str], set[str]]:
    """Keys named in full in the pages and scripts, and prefixes of keys built at run time."""
    keys = set(catalogue("zh-CN"))
    namespaces = {key.split(".")[0] for key in keys}
    literal: set[str] = set()
    prefixes: set[str] = set()
    for script in SCRIPTS:
        text = script.read_text(encoding="utf-8")
        literal |= {k for k in KEY_LITERAL.findall(text) if k.split(".")[0] in namespaces}
        prefixes |= set(KEY_PREFIX.findall(text))
    literal -= {p.value for p in Permission}  # "checkins.read" names a permission, not a label
    for path in [*SCRIPTS, *PAGES]:
        for groups in ATTR_KEYS.findall(path.read_text(encoding="utf-8")):
            for part in "".join(groups).split(";"):
                key = part.split(":")[-1].strip()
                if "." in key:  # not the placeholder names in comments
                    literal.add(key)
    return literal, prefixes


def test_both_catalogues_have_the_same_keys_and_placeholders() -> None:
    zh, en = catalogue("zh-CN"), catalogue("en")
    assert sorted(set(zh) ^ set(en)) == []
    for key in zh:
        assert zh[key].strip(), f"zh-CN {key} is empty"
        assert en[key].strip(), f"en {key} is empty"
        assert set(PLACEHOLDER.findall(zh[key])) == set(PLACEHOLDER.findall(en[key])), key
    english_with_chinese = [k for k, v in en.items() if CJK.search(v) and k != "lang.switch"]
    assert english_with_chinese == []


def test_every_key_used_exists_and_every_key_is_used() -> None:
    keys = set(catalogue("zh-CN"))
    literal, prefixes = used_keys()
    assert sorted(literal - keys) == [], "used but missing from the catalogues"
    assert prefixes, "the scan found no run-time keys: the pattern is broken"
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in keys), f"no key starts with {prefix}"
    unused = sorted(k for k in keys - literal if not any(k.startswith(p) for p in prefixes))
    assert unused == [], "in the catalogues but never used"


class _Literals(HTMLParser):
    """Text outside an element whose content is a catalogue message (data-i18n)."""

    VOID = frozenset({"meta", "link", "br", "img", "input", "hr", "source"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.literals: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        translated = any(name == "data-i18n" for name, _ in attrs)
        self.stack.append((tag, translated))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if data.strip() and not any(translated for _, translated in self.stack):
            self.literals.append(data.strip())


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_page_has_literal_text(page: Path) -> None:
    parser = _Literals()
    parser.feed(page.read_text(encoding="utf-8"))
    assert parser.literals == []
    assert '<html lang="zh-CN">' in page.read_text(encoding="utf-8")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(WEB)))
def test_no_script_has_text_of_its_own(script: Path) -> None:
    text = script.read_text(encoding="utf-8")
    assert not CJK.search(text), "Chinese text belongs in i18n/zh-CN.json"
    assert "innerHTML" not in text, "text enters pages only through label(), fmt() or value()"
    assert not re.search(r"textContent\s*=\s*[\"'`]", text), "a literal assigned as text"


def test_pages_load_no_third_party_resources() -> None:
    for path in [*PAGES, *SCRIPTS, WEB / "css" / "app.css"]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["']https?://""", text), path
        assert not re.search(r"""from\s+["']https?://|import\(["']https?://""", text), path
        assert "url(http" not in text, path


def test_vendored_echarts_is_the_pinned_npm_release_with_its_licence() -> None:
    vendor = WEB / "vendor" / "echarts"
    manifest = json.loads((vendor / "vendor.json").read_text())
    script = (ROOT / "dashboards" / "vendor.sh").read_text()
    assert f'ECHARTS_VERSION="${{ECHARTS_VERSION:-{manifest["version"]}}}"' in script
    for name, digest in manifest["files"].items():
        actual = hashlib.sha256((vendor / name).read_bytes()).hexdigest()
        assert digest == f"sha256:{actual}", f"{name} differs from the vendored release"
    assert "Apache License" in (vendor / "LICENSE").read_text()
    assert "Apache ECharts" in (vendor / "NOTICE").read_text()
    assert (vendor / "echarts.esm.min.js").stat().st_size > 500_000


def test_the_wheel_carries_the_dashboard(tmp_path: Path) -> None:
    wheel = next(
        iter(WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"]))
    )
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    expected = {
        f"hub/api/dashboard/web/{p.relative_to(WEB)}" for p in WEB.rglob("*") if p.is_file()
    }
    assert expected <= names, sorted(expected - names)[:5]
    assert "hub/api/dashboard/web/vendor/echarts/echarts.esm.min.js" in names


def test_the_hub_serves_pages_and_assets_without_shadowing_the_api(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(url)
    root = web_root()
    assert root is not None
    api = ApiThread(create_app(HubSettings(database_url=url, mode="demo")))
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{api.port}", timeout=10) as http:
            for path in page_paths(root):
                response = http.get(path)
                assert response.status_code == 200, path
                assert response.headers["content-type"].startswith("text/html")
                assert response.headers["cache-control"] == "no-cache"
            script = http.get("/js/i18n.js")
            assert script.status_code == 200
            assert "javascript" in script.headers["content-type"]
            assert http.get("/i18n/zh-CN.json").json()["app.title"] == "原平智慧社区"
            big = http.get(
                "/vendor/echarts/echarts.esm.min.js", headers={"Accept-Encoding": "gzip"}
            )
            assert big.headers["content-encoding"] == "gzip"
            assert len(big.content) > 1_000_000
            assert big.num_bytes_downloaded < 500_000, "sent compressed"
            assert http.get("/healthz").json() == {"status": "ok"}, "API routes come first"
            assert http.get("/api/v1/me").status_code == 401, "pages are open, data is not"
            missing = http.get("/api/v1/no-such-thing")
            assert missing.status_code == 404
            assert missing.json() == {"detail": "Not Found"}
            assert http.get("/js/../../pyproject.toml").status_code == 404
    finally:
        api.stop()
