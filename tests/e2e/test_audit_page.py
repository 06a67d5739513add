"""The provider opens the audit trail from the engagement page, filters it and presses Verify."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from pactboard.audit.selectors import audit_head
from pactboard.engagements.services import engagement_update, objective_create
from tests.conftest import PASSWORD, World

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_provider_reads_filters_and_verifies_the_trail(live_server, page: Page, world: World, screenshot_dir):
    engagement_update(actor=world.client_manager, engagement=world.engagement, monthly_fee=Decimal("120000.00"))
    objective_create(actor=world.client_manager, engagement=world.engagement, statement="Cut AHT")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill("pedro@helpline.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/engagements/{world.engagement.pk}/")
    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", level=1, name="Audit trail")).to_be_visible()
    events = page.get_by_test_id("audit-event")
    expect(events).to_have_count(2)
    expect(events.first).to_contain_text("Created objective “Cut AHT”")
    expect(events.last).to_contain_text("monthly fee: 100000.00 → 120000.00")

    page.get_by_label("Action").select_option("engagement.update")  # HTMX swaps the list in place
    expect(events).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/audit/\?.*action=engagement\.update"))  # the filter is in the address

    page.get_by_role("button", name="Verify").click()
    result = page.get_by_test_id("audit-verify-result")
    expect(result).to_contain_text("Intact.")
    expect(page.get_by_test_id("audit-head")).to_have_text(audit_head(engagement_id=world.engagement.pk).hash)
    page.screenshot(path=str(screenshot_dir / "audit-trail.png"), full_page=True)
