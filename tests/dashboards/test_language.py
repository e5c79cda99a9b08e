"""Simplified Chinese by default; the switch turns every visible label English without a reload,
and the choice is remembered. Each page is also checked and photographed at desktop width in
both languages here (test_pages.check_and_photograph), rather than loaded twice more there."""

from __future__ import annotations

import json

from playwright.sync_api import Browser, Page

from tests.dashboards.support import (
    CJK,
    ROOT,
    DashboardHub,
    labels,
    open_page,
    untranslated,
    watched,
)
from tests.dashboards.test_pages import PAGES, check_and_photograph

CATALOGUES = ROOT / "dashboards" / "web" / "i18n"
ZH = json.loads((CATALOGUES / "zh-CN.json").read_text(encoding="utf-8"))
EN = json.loads((CATALOGUES / "en.json").read_text(encoding="utf-8"))
SAME_IN_BOTH = {key for key in ZH if ZH[key] == EN[key]}

VISIBLE_CHINESE_JS = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!el || !el.getClientRects().length || el.closest('[data-value], [data-chart], #lang-switch')) continue;
    found.push(walker.currentNode.textContent);
  }
  return found.join(' ');
}"""

CHART_TEXT_JS = """() => [...document.querySelectorAll('[data-chart] text')].map((t) => t.textContent).join('|')"""


def _switch(page: Page, to: str) -> None:
    page.click("#lang-switch")
    page.wait_for_function(f"() => document.documentElement.lang === '{to}'")


def test_the_switch_changes_every_visible_label_and_is_remembered(
    browser: Browser, hub: DashboardHub
) -> None:
    for name, path in PAGES.items():
        with watched(browser, login=hub) as w:
            open_page(w, hub.url + path)
            page = w.page
            assert page.evaluate("document.documentElement.lang") == "zh-CN", "the default"
            check_and_photograph(w, name, "desktop", "zh-CN")
            before = labels(page)
            assert before, f"{name} shows no labels"
            charts_before = page.evaluate(CHART_TEXT_JS)
            _switch(page, "en")
            after = labels(page)
            assert [b["key"] for b in before] == [a["key"] for a in after], name
            unchanged = [
                b["key"]
                for b, a in zip(before, after, strict=True)
                if b["text"] == a["text"] and b["key"] not in SAME_IN_BOTH
            ]
            assert unchanged == [], f"{name}: labels the switch did not change"
            assert all(a["text"] == EN[a["key"]] or "{" in EN[a["key"]] for a in after)
            assert untranslated(page) == []
            chinese = CJK.findall(page.evaluate(VISIBLE_CHINESE_JS))
            assert chinese == [], f"{name}: Chinese left on the English page"
            assert page.evaluate(CHART_TEXT_JS) != charts_before or not charts_before
            assert page.title() == EN[f"page.{name}.title"]

            page.reload()
            page.wait_for_function("() => document.documentElement.dataset.ready === 'true'")
            assert page.evaluate("document.documentElement.lang") == "en", "remembered"
            check_and_photograph(w, name, "desktop", "en")
            _switch(page, "zh-CN")
            assert page.title() == ZH[f"page.{name}.title"]
            assert [label["text"] for label in labels(page)] == [b["text"] for b in before]
            assert w.problems == []
