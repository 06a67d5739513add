"""A settlement in a browser: the what-if panel recomputes as a value is typed, then both parties approve."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from pactboard.incentives import services
from pactboard.incentives.models import Settlement
from pactboard.kpis.models import AgreementVersion
from tests.conftest import World
from tests.e2e.browser import log_in
from tests.incentives.conftest import agree, draft_with_qa, qa_scheme, record

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_what_if_and_both_approvals(live_server, browser: Browser, world: World, screenshot_dir):
    draft_version = draft_with_qa(world)
    services.version_scheme_set(actor=world.client_manager, version=draft_version, scheme=qa_scheme())
    assert agree(world, draft_version).status == AgreementVersion.Status.AGREED
    record(world, "2026-03", "88")
    draft = services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-03")
    url = f"{live_server.url}/engagements/{world.engagement.pk}/incentives/settlements/{draft.pk}/"

    client = browser.new_page()
    log_in(client, live_server.url, world.client_manager.user.email)
    client.goto(url)
    expect(client.get_by_test_id("lines-net")).to_have_text("-€5,000.00")
    # What if QA had been 98: no credit, a 1,000.00 bonus (conftest's scheme); typed, not submitted.
    panel = client.get_by_test_id("what-if")
    panel.get_by_label("qa_score").fill("98")
    expect(client.get_by_test_id("what-if-change")).to_contain_text("Net €1,000.00")
    expect(client.get_by_test_id("what-if-change")).to_contain_text("change €6,000.00")
    client.screenshot(path=str(screenshot_dir / "settlement-what-if.png"), full_page=True)
    # Nothing stored: the statement itself still says −5,000.00.
    expect(client.get_by_test_id("lines-net")).to_have_text("-€5,000.00")
    client.get_by_role("button", name="Approve for Acme Retail").click()
    expect(client.locator(".messages")).to_contain_text("Approved for your side")
    expect(client.get_by_test_id("status")).to_have_text("Draft, awaiting approvals")

    provider = browser.new_context().new_page()
    log_in(provider, live_server.url, world.provider_manager.user.email)
    provider.goto(url)
    provider.get_by_role("button", name="Approve for Helpline BPO").click()
    expect(provider.locator(".messages")).to_contain_text("Settlement final")
    expect(provider.get_by_test_id("status")).to_have_text("Final")
    expect(provider.get_by_role("button", name="Approve for Helpline BPO")).to_have_count(0)
    draft.refresh_from_db()
    assert draft.status == Settlement.Status.FINAL
