"""A review in a browser: the client opens the next review, sees the generated agenda with the at-risk KPI
and the overdue action, records an action owned by the provider; the provider finds it on the Actions page
and in the notification centre."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from pactboard.dashboards.selectors import agreed_cache_clear
from pactboard.governance import services
from pactboard.governance.models import Meeting, Notification
from pactboard.measurements import services as measurement_services
from tests.conftest import World
from tests.dashboards.conftest import agree_kpis
from tests.e2e.browser import log_in
from tests.governance.conftest import OCTOBER

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh_agreed_cache():
    agreed_cache_clear()


@pytest.fixture
def review_world(world: World) -> World:
    """Acme support: kpi_00 at risk (77 against 80, amber 75) and kpi_01 missed in 2026-10, an overdue action."""
    agree_kpis(world, world.engagement, 2)
    measurement_services.values_push(
        actor=world.provider_manager,
        engagement=world.engagement,
        rows=[
            measurement_services.ValueRow(kpi_code="kpi_00", period=OCTOBER, value=Decimal(77)),
            measurement_services.ValueRow(kpi_code="kpi_01", period=OCTOBER, value=Decimal(30)),
        ],
    )
    Meeting.objects.create(
        engagement=world.engagement, title="Acme support review", starts_at=timezone.now() + timedelta(days=5)
    )
    services.action_create(
        actor=world.client_manager,
        engagement=world.engagement,
        title="Staff the evening shift",
        owner_id=world.provider_manager.pk,
        due_date=timezone.localdate() - timedelta(days=3),
        now=timezone.now(),
    )
    return world


def test_client_records_an_action_the_provider_then_sees(
    live_server, browser: Browser, review_world: World, screenshot_dir
):
    base = live_server.url
    client_page = browser.new_page()
    log_in(client_page, base, review_world.client_manager.user.email)
    client_page.get_by_role("link", name="Acme support").first.click()
    client_page.get_by_role("link", name="Reviews", exact=True).last.click()
    client_page.get_by_test_id("upcoming-reviews").get_by_role("link", name="Acme support review").click()

    agenda = client_page.get_by_test_id("agenda")
    expect(agenda).to_contain_text("KPI 00: at risk in 2026-10")
    expect(agenda).to_contain_text("KPI 01: missed in 2026-10")
    overdue = agenda.locator(".flag-overdue")
    expect(overdue).to_contain_text("Staff the evening shift")
    expect(overdue).to_contain_text("Overdue")
    expect(agenda.get_by_role("link", name="KPI 00: at risk in 2026-10")).to_have_attribute(
        "href", f"/engagements/{review_world.engagement.pk}/kpis/kpi_00/"
    )

    form = client_page.get_by_role("form", name="Record an action")
    form.get_by_label("Action").fill("Send the October call-routing report")
    form.get_by_label("Owner").select_option(label="Pedro (Helpline BPO)")
    form.get_by_label("Due date").fill((date.today() + timedelta(days=10)).isoformat())
    form.get_by_role("button", name="Record action").click()
    expect(client_page.get_by_test_id("meeting-actions")).to_contain_text("Send the October call-routing report")
    client_page.screenshot(path=str(screenshot_dir / "review-meeting.png"), full_page=True)

    provider_page = browser.new_page()
    log_in(provider_page, base, review_world.provider_manager.user.email)
    # The alerts October's values raised (at risk on kpi_00, missed on kpi_01, and late months),
    # plus two actions: the overdue one assigned earlier, and the one just recorded.
    alerts = Notification.objects.filter(recipient=review_world.provider_manager, kind__startswith="alert.")
    assert {"alert.at_risk", "alert.breach"} <= set(alerts.values_list("kind", flat=True))
    expect(provider_page.get_by_test_id("unread-count")).to_have_text(str(alerts.count() + 2))
    provider_page.get_by_role("link", name="Actions", exact=True).click()
    rows = provider_page.get_by_test_id("action-row")
    expect(rows.filter(has_text="Send the October call-routing report")).to_have_count(1)
    expect(rows.filter(has_text="Staff the evening shift")).to_contain_text("Overdue")
    provider_page.get_by_test_id("nav-notifications").click()
    note = provider_page.get_by_test_id("notification").filter(has_text="Send the October call-routing report")
    expect(note).to_contain_text("unread")
    note.get_by_role("link").click()
    expect(provider_page.get_by_role("heading", name="Send the October call-routing report")).to_be_visible()
    # Opening it marked it read.
    expect(provider_page.get_by_test_id("unread-count")).to_have_text(str(alerts.count() + 1))
    provider_page.screenshot(path=str(screenshot_dir / "review-action.png"), full_page=True)
