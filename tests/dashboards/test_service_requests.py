"""A resident's request through the pages: raised on the public form on a phone, classified and
transferred by the community's official (centre staff), accepted and resolved by the unit's
contact, confirmed by the community; three users, each seeing what its role allows, the contact
masked but to the unit working on it. One test, on the shared hub (the workflow's cases are
tests/hub/org/test_service_requests.py's)."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import Browser, Page
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hub.auth import Role
from hub.core.db import make_engine
from hub.org.models import Agreement, ServiceMenuItem
from tests.dashboards.support import DashboardHub, open_page, screenshot, watched
from tests.users import user_token

PHONE = {"width": 390, "height": 844}


def _offer(hub: DashboardHub, community: int) -> tuple[int, str]:
    """A unit whose agreement in force with the community offers something, and that offer: the
    request is classified as that offer, so the unit is the one suggested."""
    engine = make_engine(hub.settings.database_url)
    today = datetime.now(UTC).date()
    try:
        with Session(engine) as s:
            found = s.execute(
                select(Agreement.unit_id, ServiceMenuItem.title)
                .join(ServiceMenuItem, ServiceMenuItem.agreement_id == Agreement.id)
                .where(
                    Agreement.community_id == community,
                    Agreement.archived_at.is_(None),
                    Agreement.signed_on <= today,
                    or_(Agreement.ends_on.is_(None), Agreement.ends_on >= today),
                    ServiceMenuItem.direction == "offer",
                )
                .order_by(Agreement.id, ServiceMenuItem.id)
            ).first()
    finally:
        engine.dispose()
    assert found is not None, "the seeded city has an agreement with an offer"
    return int(found[0]), str(found[1])


def _step(page: Page, kind: str) -> None:
    page.locator(f'#history-table tr[data-step="{kind}"]').first.wait_for()


def test_a_residents_request_is_transferred_accepted_resolved_and_confirmed_through_the_pages(
    browser: Browser, hub: DashboardHub
) -> None:
    url = hub.settings.database_url
    community = hub.get("/api/v1/communities", centre_id="centre-01")["data"][0]
    unit, offer = _offer(hub, community["id"])
    centre = user_token(url, Role.CENTRE_STAFF, centre="centre-01", username="sq-centre")
    contact = user_token(url, Role.UNIT_CONTACT, unit=unit, username="sq-unit")
    stranger = user_token(url, Role.UNIT_CONTACT, unit=unit % 12 + 1, username="sq-other-unit")

    # a resident, no login, on a phone
    with watched(browser, "tablet") as w:
        page = w.page
        page.set_viewport_size(PHONE)  # type: ignore[arg-type]
        open_page(w, hub.url + "/public/request")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.select_option("#community", str(community["id"]))
        page.fill("#place", "3号楼2单元")
        page.fill("#summary", "楼道照明损坏\n晚上看不见")
        page.fill("#contact", "138 1234 5678")
        page.click("#submit")
        page.locator("#sent").wait_for()
        number = page.locator("#number").inner_text()
        assert number.startswith("#")
        screenshot(w, "public-request-phone-zh-CN")
        assert w.problems == []
    rid = int(number[1:])
    path = f"/requests?id={rid}"

    # the community's official: the contact masked; classify, then transfer to the suggested unit
    with watched(browser, login=hub, token=centre) as w:
        page = w.page
        open_page(w, hub.url + path)
        page.locator(f'#requests-list tr[data-request="{rid}"]').wait_for()
        assert page.locator("#detail-contact").inner_text() == "138****5678"
        assert page.locator("#detail-summary").inner_text() == "楼道照明损坏 晚上看不见"
        page.fill("#in-classify", offer)
        page.click("#do-classify")
        _step(page, "classified")
        page.click(f"#do-transfer-{unit}")
        _step(page, "transferred")
        assert (
            page.context.request.get(f"{hub.url}/api/v1/service-requests/{rid}/contact").status
            == 403
        )
        assert w.problems == []

    # another unit's contact: not there
    with watched(browser, login=hub, token=stranger) as w:
        refused = w.page.context.request.get(f"{hub.url}/api/v1/service-requests/{rid}")
        assert refused.status == 404

    # the unit's contact: accepts, sees the contact whole (recorded), resolves
    with watched(browser, login=hub, token=contact) as w:
        page = w.page
        open_page(w, hub.url + path + "&queue=unit")
        page.locator(f'#requests-list tr[data-request="{rid}"]').wait_for()
        page.click("#do-accept")
        _step(page, "accepted")
        page.click("#show-contact")
        page.locator("#contact-whole span").wait_for()
        assert page.locator("#contact-whole").inner_text() == "13812345678"
        _step(page, "contact_viewed")
        assert page.locator("#detail-contact").inner_text() == "138****5678"
        page.fill("#in-resolve", "已更换灯泡")
        page.click("#do-resolve")
        _step(page, "resolved")
        assert w.problems == []

    # the community confirms: done, and the contact is gone
    with watched(browser, login=hub, token=centre) as w:
        page = w.page
        open_page(w, hub.url + path)
        page.click("#do-confirm")
        _step(page, "confirmed")
        assert page.locator("#detail-contact").inner_text() == ""
        actors = page.locator("#history-table tbody tr td:nth-child(2)").all_inner_texts()
        assert actors == [
            "public",
            "sq-centre",
            "sq-centre",
            "sq-unit",
            "sq-unit",
            "sq-unit",
            "sq-centre",
        ]
        screenshot(w, "requests-history-desktop-zh-CN")
        assert w.problems == []
