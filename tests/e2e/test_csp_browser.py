"""Pages under the Content-Security-Policy in a browser: charts draw, bars size, nothing is blocked (issue 13)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from pactboard.dashboards.charts import vega_bundle_ensure
from tests.conftest import World
from tests.e2e.browser import log_in
from tests.e2e.test_dashboards import _mid_november, live_world  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module", autouse=True)
def _vega_bundle() -> None:
    vega_bundle_ensure()


def test_dashboards_run_under_the_policy_without_violations(live_server, page: Page, live_world: World):  # noqa: F811
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda err: violations.append(str(err)))
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "carla@acme.example")
    page.goto(f"{live_server.url}/portfolio/")
    chart = page.locator("[data-vega-spec='portfolio-chart-spec']")
    expect(chart.locator("svg.marks")).to_be_visible()
    # The min-height and the score bars come from data attributes through static/js/app.js.
    assert chart.evaluate("el => el.style.minHeight").endswith("rem")
    bar = page.locator("[data-meter]").first
    assert bar.evaluate("el => el.style.width").endswith("%")
    page.goto(f"{live_server.url}/engagements/{live_world.engagement.pk}/dashboard/")
    expect(page.get_by_test_id("kpi-tile").first).to_be_visible()
    page.locator("[data-testid='kpi-tile'] a").first.click()
    expect(page.get_by_test_id("kpi-chart").locator("svg.marks")).to_be_visible()
    # The chart's actions menu is styled from the static file (closed: its items hidden).
    expect(page.get_by_test_id("kpi-chart").locator("details summary")).to_be_visible()
    assert violations == []


def test_api_docs_and_admin_run_under_the_policy(live_server, page: Page, world: World):
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    user = world.client_manager.user
    user.is_staff = True
    user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    log_in(page, live_server.url, "carla@acme.example")
    page.goto(f"{live_server.url}/api/docs")
    expect(page.get_by_text("Pactboard API").first).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()
    page.goto(f"{live_server.url}/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    assert violations == []
