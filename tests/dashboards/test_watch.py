"""The page watcher the dashboard tests rely on: a request the page itself abandons is a problem;
one the browser aborts because the test left the document is not."""

from __future__ import annotations

from playwright.sync_api import Browser

from tests.dashboards.support import DashboardHub, open_page, watched

ABANDON = """() => new Promise((resolve) => {
  const control = new AbortController();
  fetch('/api/v1/checkins?limit=1', {signal: control.signal}).catch(() => resolve(true));
  control.abort();
})"""


def test_an_abort_counts_while_its_document_stays_and_not_after_it_left(
    browser: Browser, hub: DashboardHub
) -> None:
    with watched(browser, login=hub) as w:
        open_page(w, hub.url + "/")
        w.page.wait_for_function(ABANDON)
        for _ in range(100):  # the failure event comes after the promise: up to 10 s for it
            if w.problems:
                break
            w.page.wait_for_timeout(100)
        assert any("ERR_ABORTED" in p and "/api/v1/checkins" in p for p in w.problems)

        open_page(w, hub.url + "/checkins")  # the document that abandoned it is gone
        assert w.problems == []
