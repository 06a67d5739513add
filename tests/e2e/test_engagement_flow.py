"""Log in, open an engagement, see its objectives: as the client and as the provider."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import World
from tests.e2e.browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_client_logs_in_opens_engagement_and_sees_objectives(live_server, page: Page, world: World, screenshot_dir):
    log_in(page, live_server.url, "carla@acme.example")
    table = page.get_by_test_id("engagement-table")
    expect(table.get_by_role("link", name="Acme support")).to_be_visible()
    expect(table).not_to_contain_text("Globex back office")
    page.screenshot(path=str(screenshot_dir / "engagement-list.png"), full_page=True)

    table.get_by_role("link", name="Acme support").click()
    expect(page.get_by_role("heading", level=1, name="Acme support")).to_be_visible()
    objectives = page.get_by_test_id("objective")
    expect(objectives).to_have_count(1)
    expect(objectives.first).to_contain_text("Resolve more issues at first contact")
    expect(objectives.first).to_contain_text("No owner: name the person accountable.")
    page.screenshot(path=str(screenshot_dir / "engagement-detail.png"), full_page=True)
    assert (screenshot_dir / "engagement-detail.png").stat().st_size > 10_000


def test_client_adds_objective_with_a_bad_field_then_fixes_it(live_server, page: Page, world: World, screenshot_dir):
    log_in(page, live_server.url, "carla@acme.example")
    page.goto(f"{live_server.url}/engagements/{world.engagement.pk}/objectives/new/")
    page.get_by_label("Measure").fill("CSAT")
    page.get_by_role("button", name="Save objective").click()
    error = page.locator("#id_statement_error")
    expect(error).to_have_text("This field is required.")
    expect(page.get_by_label("Statement")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=str(screenshot_dir / "objective-form-error.png"), full_page=True)
    page.get_by_label("Statement").fill("Delight customers")
    page.get_by_role("button", name="Save objective").click()
    expect(page.get_by_test_id("objective")).to_have_count(2)


def test_provider_sees_its_engagement_only_and_phone_layout(live_server, page: Page, world: World, screenshot_dir):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server.url, "pedro@helpline.example")
    expect(page.get_by_role("link", name="Acme support")).to_be_visible()
    expect(page.get_by_test_id("engagement-table")).not_to_contain_text("Globex")
    page.screenshot(path=str(screenshot_dir / "engagement-list-phone.png"), full_page=True)
    response = page.goto(f"{live_server.url}/engagements/{world.other_engagement.pk}/")
    assert response is not None
    assert response.status == 404
