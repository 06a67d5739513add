"""Dashboards in a browser: both parties see the same numbers, a value pushed through the API shows
on an open dashboard within 2 seconds without a reload, and the pages at desktop and phone widths."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from playwright.sync_api import Browser, Page, expect

from pactboard.accounts.services import api_token_create
from pactboard.core.periods import Period, periods_between
from pactboard.dashboards import selectors as dashboard_selectors
from pactboard.dashboards.charts import vega_bundle_ensure
from pactboard.dashboards.selectors import agreed_cache_clear
from pactboard.engagements.services import business_change_record
from pactboard.kpis.services import MilestoneSpec
from tests.conftest import PASSWORD, World
from tests.dashboards.conftest import agree_kpis, kpi_code, push_values
from tests.e2e.browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

KPIS = 6
MONTHS = periods_between("month", Period.parse("2026-01"), Period.parse("2026-10"))
LIVE_TIMEOUT_MS = 2_000  # F8: a new value shows on every open dashboard within seconds


@pytest.fixture(scope="module", autouse=True)
def _vega_bundle() -> None:
    vega_bundle_ensure()


@pytest.fixture(autouse=True)
def _fresh_agreed_cache():
    agreed_cache_clear()


@pytest.fixture(autouse=True)
def _mid_november(monkeypatch):
    # The pages show the latest closed month: with values to 2026-10, "now" is mid-November 2026 for
    # the dashboards' selectors only (sessions and cookies keep the real clock the browser uses).
    clock = SimpleNamespace(now=lambda: datetime(2026, 11, 15, 12, tzinfo=UTC))
    for module in (dashboard_selectors.common, dashboard_selectors.engagement, dashboard_selectors.portfolios):
        monkeypatch.setattr(module, "timezone", clock)


@pytest.fixture
def live_world(world: World) -> World:
    """Acme support with six agreed KPIs and values for 2026-01 to 2026-10; kpi_01 has none for 2026-10."""
    agree_kpis(world, world.engagement, KPIS, milestone=MilestoneSpec(date=date(2026, 6, 30), target=Decimal(75)))
    codes = [kpi_code(i) for i in range(KPIS)]
    push_values(world.provider_manager, world.engagement, codes, MONTHS, skip={(kpi_code(1), "2026-10")})
    business_change_record(
        actor=world.client_manager,
        engagement=world.engagement,
        date=date(2026, 4, 1),
        kind="launch",
        title="Self-service returns portal",
        description="Simple returns move to the web shop; the calls left are harder.",
        kpi_codes=[kpi_code(0)],
    )
    return world


def _tiles(page: Page) -> list[str]:
    tiles = page.get_by_test_id("kpi-tile")
    expect(tiles).to_have_count(KPIS)
    return [
        " | ".join(
            [
                t.get_attribute("data-kpi") or "",
                t.get_by_test_id("tile-value").inner_text(),
                t.get_by_test_id("tile-status").inner_text(),
            ]
        )
        for t in tiles.all()
    ]


def test_client_and_provider_see_the_same_numbers(live_server, browser: Browser, live_world: World, screenshot_dir):
    seen = {}
    for email in ("carla@acme.example", "pedro@helpline.example"):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        log_in(page, live_server.url, email)
        page.get_by_role("link", name="Portfolio").click()
        table = page.get_by_test_id("portfolio-table")
        row = table.get_by_test_id("portfolio-row").filter(has_text="Acme support")
        score = row.get_by_test_id("status-score").inner_text()
        expect(table).not_to_contain_text("Globex")
        row.get_by_role("link", name="Acme support").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Acme support: dashboard")
        seen[email] = (score, page.get_by_test_id("weighted-score").inner_text(), _tiles(page))
        context.close()
    client, provider = seen["carla@acme.example"], seen["pedro@helpline.example"]
    assert client == provider
    assert client[1] != "—"
    assert any("No data" in t for t in client[2])  # kpi_01 in 2026-10


def test_a_value_pushed_through_the_api_appears_without_reload(
    live_server, browser: Browser, live_world: World, screenshot_dir
):
    world = live_world
    _, token = api_token_create(membership=world.provider_manager, name="wfm-export")
    pages = []
    for email in ("carla@acme.example", "pedro@helpline.example"):
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        log_in(page, live_server.url, email)
        page.goto(f"{live_server.url}/engagements/{world.engagement.pk}/dashboard/")
        tile = page.locator(f'[data-testid="kpi-tile"][data-kpi="{kpi_code(1)}"]')
        expect(tile.get_by_test_id("tile-status")).to_contain_text("No data")
        # A marker that a reload would lose: the page must be updated in place.
        page.evaluate("window.__notReloaded = true")
        pages.append(page)
    response = pages[0].request.post(
        f"{live_server.url}/api/engagements/{world.engagement.pk}/measurements",
        headers={"Authorization": f"Bearer {token}"},
        data={"values": [{"kpi": kpi_code(1), "period": "2026-10", "value": "17"}]},
    )
    assert response.status == 201, response.text()
    for page in pages:
        tile = page.locator(f'[data-testid="kpi-tile"][data-kpi="{kpi_code(1)}"]')
        # kpi_01 is lower-is-better, target 20, stretch 15: 17 is met (docs/scoring.md, status table).
        expect(tile.get_by_test_id("tile-value")).to_have_text("17 %", timeout=LIVE_TIMEOUT_MS)
        expect(tile.get_by_test_id("tile-status")).to_contain_text("Met", timeout=LIVE_TIMEOUT_MS)
        assert page.evaluate("window.__notReloaded") is True
        # Written by the server in the engagement's zone (Europe/Berlin), the zone named: not the
        # browser's "10:38:27 AM" in a zone nobody named (docs/formatting.md).
        expect(page.locator("#live-status")).to_have_text(
            re.compile(r"^Updated at \d\d:\d\d:\d\d (CET|CEST)\.$"), timeout=LIVE_TIMEOUT_MS
        )
    pages[0].screenshot(path=str(screenshot_dir / "dashboard-after-live-update.png"), full_page=True)
    for page in pages:
        # Left open, a dashboard polls the live server every second for the rest of the session.
        page.context.close()


def test_a_live_dashboard_whose_session_ends_goes_to_log_in_and_comes_back(
    live_server, page: Page, live_world: World, screenshot_dir
):
    world = live_world
    log_in(page, live_server.url, "carla@acme.example")
    dashboard = f"{live_server.url}/engagements/{world.engagement.pk}/dashboard/?period=2026-05"
    page.goto(dashboard)
    expect(page.get_by_test_id("kpi-tile").first.locator(".tile-period")).to_have_text("2026-05")
    # The session ends (logged out in another tab, or expired): the next poll, within a second, loads
    # the log-in page as a page, not inside the dashboard's live region.
    page.context.clear_cookies()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="), timeout=LIVE_TIMEOUT_MS + 1_000)
    expect(page.get_by_test_id("dashboard")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "dashboard-session-ended.png"), full_page=True)
    page.get_by_label("E-mail").fill("carla@acme.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # Back on the page and period the person was looking at.
    expect(page).to_have_url(dashboard)
    expect(page.get_by_test_id("kpi-tile").first.locator(".tile-period")).to_have_text("2026-05")


def test_kpi_page_draws_the_chart_and_embeds_the_values(live_server, page: Page, live_world: World, screenshot_dir):
    world = live_world
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "carla@acme.example")
    page.goto(f"{live_server.url}/engagements/{world.engagement.pk}/dashboard/")
    page.locator(f'[data-kpi="{kpi_code(0)}"]').get_by_role("heading").get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("KPI 00")
    chart = page.get_by_test_id("kpi-chart")
    expect(chart.locator("svg.marks")).to_be_visible()
    expect(page.get_by_test_id("chart-summary")).to_contain_text("Latest value")
    expect(page.get_by_test_id("business-change")).to_contain_text("Self-service returns portal")
    # The values table, with revisions and sources, comes from the measurements app's fragment.
    expect(page.get_by_test_id("kpi-values")).to_be_visible()
    expect(page.get_by_test_id("feedback-section")).to_be_visible()
    # The chart's data is also a table (its text alternative).
    page.get_by_text("The chart's data as a table").click()
    expect(page.get_by_test_id("chart-table").locator("tbody tr").first).to_contain_text("2026-1")
    page.screenshot(path=str(screenshot_dir / "dashboards-kpi-desktop.png"), full_page=True)


def test_keyboard_reaches_the_period_picker_and_the_tiles(live_server, page: Page, live_world: World):
    world = live_world
    log_in(page, live_server.url, "pedro@helpline.example")
    page.goto(f"{live_server.url}/engagements/{world.engagement.pk}/dashboard/")
    picker = page.get_by_label("Period", exact=True)
    picker.focus()
    picker.select_option("2026-05")
    expect(page).to_have_url(re.compile(r"period=2026-05"))
    expect(page.get_by_test_id("kpi-tile").first.locator(".tile-period")).to_have_text("2026-05")
    page.get_by_test_id("kpi-tile").first.get_by_role("heading").get_by_role("link").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("KPI 00")


@pytest.mark.parametrize(("label", "viewport"), [("desktop", (1280, 900)), ("phone", (390, 844))])
def test_screenshots(live_server, page: Page, live_world: World, screenshot_dir, label, viewport):
    world = live_world
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    log_in(page, live_server.url, "carla@acme.example")
    page.goto(f"{live_server.url}/portfolio/")
    expect(page.get_by_test_id("portfolio-row").first).to_be_visible()
    expect(page.locator(".chart-bars svg.marks")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"dashboards-portfolio-{label}.png"), full_page=True)
    page.goto(f"{live_server.url}/engagements/{world.engagement.pk}/dashboard/")
    expect(page.get_by_test_id("kpi-tile")).to_have_count(KPIS)
    page.screenshot(path=str(screenshot_dir / f"dashboards-engagement-{label}.png"), full_page=True)
    page.goto(f"{live_server.url}/engagements/{world.engagement.pk}/kpis/{kpi_code(0)}/")
    expect(page.get_by_test_id("kpi-chart").locator("svg.marks")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"dashboards-kpi-{label}.png"), full_page=True)
    # Nothing wider than the screen: no sideways scrolling on a phone.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport[0] + 1


def test_business_changes_page_fits_a_phone(live_server, page: Page, live_world: World, screenshot_dir):
    """390 px (an iPhone 12-15 in portrait): the log and the form fit, nothing scrolls sideways."""
    world = live_world
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server.url, "carla@acme.example")
    page.goto(f"{live_server.url}/engagements/{world.engagement.pk}/business-changes/")
    expect(page.get_by_test_id("business-change").first).to_be_visible()
    expect(page.get_by_test_id("change-form")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "business-changes-phone.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.'))
            .slice(0, 8)"""
    )
    assert width <= 391, f"page is {width} px wide; wider than the screen: {wide}"
