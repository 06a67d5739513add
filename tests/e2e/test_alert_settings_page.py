"""A client administrator opens the alerts page from the engagement page, changes a threshold and is refused
an out-of-range one; the provider reads the thresholds without a form.

Bounds and defaults: docs/governance.md, "Alerts" (chronic_after 1-24 missed periods, default 3).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from pactboard.accounts.models import Role
from pactboard.governance.alerts import alert_thresholds
from tests.conftest import World, make_member
from tests.e2e.browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_client_admin_changes_a_threshold_and_the_provider_only_reads_it(
    live_server, page: Page, browser: Browser, world: World, screenshot_dir
):
    admin = make_member("ada@acme.example", world.client_org, Role.ADMIN)
    pk = world.engagement.pk
    alerts_url = re.compile(rf"/engagements/{pk}/alerts/$")
    log_in(page, live_server.url, admin.user.email)

    page.goto(f"{live_server.url}/engagements/{pk}/")
    page.get_by_role("link", name="Alerts", exact=True).click()
    expect(page).to_have_url(alerts_url)
    expect(page.get_by_role("heading", level=1, name="Alerts")).to_be_visible()
    expect(page.get_by_text("A KPI is chronic after 3 missed periods in a row")).to_be_visible()  # the default

    page.get_by_test_id("alert-settings-link").click()
    expect(page.get_by_role("heading", level=1, name="Alert settings")).to_be_visible()
    chronic = page.get_by_label("Chronic after")
    expect(chronic).to_have_value("3")
    chronic.fill("6")  # within 1-24
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(alerts_url)
    expect(page.get_by_role("status")).to_contain_text("Alert settings saved: the next scan uses them.")
    expect(page.get_by_text("A KPI is chronic after 6 missed periods in a row")).to_be_visible()
    assert alert_thresholds(engagement=world.engagement) == (6, 5, 3)

    page.get_by_test_id("alert-settings-link").click()
    expect(chronic).to_have_value("6")
    chronic.fill("25")  # one past the upper bound
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1, name="Alert settings")).to_be_visible()
    # The error sits at the field it names, with the bounds to use; what was typed stays to correct.
    field = page.locator(".field.has-error")
    expect(field).to_have_count(1)
    expect(field.locator("label")).to_contain_text("Chronic after")
    expect(field.get_by_role("alert")).to_have_text(
        "25 is out of range: set the missed periods in a row that make a KPI chronic between 1 and 24."
    )
    expect(chronic).to_have_value("25")
    page.screenshot(path=str(screenshot_dir / "alert-settings-error.png"), full_page=True)
    # Nothing was saved: the alerts page still says 6.
    page.get_by_role("link", name="Alerts", exact=True).click()
    expect(page).to_have_url(alerts_url)
    expect(page.get_by_text("A KPI is chronic after 6 missed periods in a row")).to_be_visible()
    assert alert_thresholds(engagement=world.engagement) == (6, 5, 3)

    # The provider's manager reads the thresholds that judge their delivery, with no form to change them.
    provider = browser.new_context().new_page()
    log_in(provider, live_server.url, world.provider_manager.user.email)
    provider.goto(f"{live_server.url}/engagements/{pk}/alerts/")
    link = provider.get_by_test_id("alert-settings-link")
    expect(link).to_have_text("Alert settings")
    link.click()
    expect(provider.get_by_role("heading", level=1, name="Alert settings")).to_be_visible()
    expect(provider.get_by_test_id("alert-thresholds")).to_contain_text("6 missed periods in a row")
    expect(provider.get_by_text("Only the client's administrators and managers")).to_be_visible()
    expect(provider.get_by_role("button", name="Save")).to_have_count(0)
    expect(provider.get_by_role("spinbutton")).to_have_count(0)
    provider.context.close()
