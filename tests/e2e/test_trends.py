"""The KPI page in a browser: the trend panel with its evidence, and the forecast drawn on the chart as a fan."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

from pactboard.core.periods import Period, periods_between
from pactboard.dashboards import selectors as dashboard_selectors
from pactboard.dashboards.charts import FORECAST_COLOUR, vega_bundle_ensure
from pactboard.dashboards.selectors import agreed_cache_clear
from pactboard.measurements import services as measurement_services
from pactboard.measurements.outlook import forecast_cache_clear
from tests.conftest import PASSWORD, World
from tests.dashboards.conftest import agree_kpis

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MONTHS = periods_between("month", Period.parse("2026-01"), Period.parse("2026-10"))
# kpi_00 (higher is better, target 80): ten misses of ten, like the demo's cost per acquisition.
UNDER = [70, 72, 71, 74, 73, 72, 75, 71, 70, 73]


@pytest.fixture(scope="module", autouse=True)
def _vega_bundle() -> None:
    vega_bundle_ensure()


@pytest.fixture(autouse=True)
def _fresh_caches():
    agreed_cache_clear()
    forecast_cache_clear()


@pytest.fixture(autouse=True)
def _mid_november(monkeypatch):
    # Values to 2026-10; "now" is mid-November 2026 for the dashboards' selectors (the running month
    # 2026-11 is the forecast's first point).
    clock = SimpleNamespace(now=lambda: datetime(2026, 11, 15, 12, tzinfo=UTC))
    monkeypatch.setattr(dashboard_selectors.common, "timezone", clock)


def test_kpi_page_shows_the_trend_panel_and_the_forecast_fan(live_server, page: Page, world: World, screenshot_dir):
    agree_kpis(world, world.engagement, 2)
    rows = [
        measurement_services.ValueRow(kpi_code="kpi_00", period=p, value=Decimal(v))
        for p, v in zip(MONTHS, UNDER, strict=True)
    ]
    measurement_services.values_push(actor=world.provider_manager, engagement=world.engagement, rows=rows)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill(world.client_manager.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Engagements")).to_be_visible()
    page.goto(f"{live_server.url}/engagements/{world.engagement.pk}/kpis/kpi_00/")

    panel = page.get_by_test_id("trend-panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_test_id("trend-word")).to_have_text("Consistently under-performing")
    # Ten misses of ten: one-sided sign test p = 1/1024 < 0.001.
    expect(panel.get_by_test_id("trend-sign")).to_contain_text("10 misses, 0 exceedances")
    expect(panel.get_by_test_id("trend-run")).to_contain_text("10 misses in a row, since 2026-01")
    expect(panel.get_by_test_id("forecast-method")).to_contain_text("Exponential smoothing")
    expect(panel.get_by_test_id("forecast-table")).to_contain_text("2026-11")

    chart = page.get_by_test_id("kpi-chart")
    expect(chart.locator("svg.marks")).to_be_visible()
    # The fan: two bands (95 % and 80 %) and the dashed forecast line, drawn in the forecast colour.
    fan = chart.locator(f'svg path[fill="{FORECAST_COLOUR}"]')
    expect(fan).to_have_count(2)
    expect(chart.locator(f'svg path[stroke="{FORECAST_COLOUR}"]').first).to_be_attached()
    expect(page.get_by_test_id("fan-key")).to_contain_text(re.compile("80 %.*95 %"))
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "kpi-trend-panel-and-fan.png"), full_page=True)
