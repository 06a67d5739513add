"""The KPI page's trend panel and forecast fan, and the dashboard tile's trend word and forecast.

The numbers are the outlook's (tests/measurements/test_outlook.py works them out by hand); here
the pages must show them, in the KPI's unit, with the method named. KPIs from ``agree_kpis``:
kpi_00 higher-is-better (target 80), kpi_01 lower-is-better (target 20).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pactboard.core.periods import Period
from pactboard.dashboards.pagecache import page_cache_clear
from pactboard.dashboards.selectors import agreed_cache_clear, local_today
from pactboard.engagements.models import Engagement
from pactboard.measurements import services as measurement_services
from pactboard.measurements.outlook import forecast_cache_clear
from tests.conftest import World, client_for, make_engagement
from tests.dashboards.conftest import agree_kpis

pytestmark = pytest.mark.django_db

UNDER = [70, 72, 71, 74, 73, 72, 75, 71, 70, 73, 72, 74]  # 12 misses of 12 against 80
LOWER_IMPROVING = list(range(25, 13, -1))  # 25 .. 14 against 20, falling 1 a month


@pytest.fixture(autouse=True)
def _fresh_forecasts():
    forecast_cache_clear()
    yield
    forecast_cache_clear()


def _engagement(world: World) -> Engagement:
    """Twelve closed months of values ending last month; the running month is the forecast's."""
    engagement = make_engagement(world.client_org, world.provider_org, "Trend page")
    running = Period.containing("month", local_today(engagement))
    engagement.start_date, engagement.end_date = running.shift(-12).start, running.shift(24).start
    engagement.save()
    agree_kpis(world, engagement, 2)
    months = [running.shift(i) for i in range(-12, 0)]
    rows = [
        measurement_services.ValueRow(kpi_code=code, period=p, value=Decimal(v))
        for code, values in (("kpi_00", UNDER), ("kpi_01", LOWER_IMPROVING))
        for p, v in zip(months, values, strict=True)
    ]
    measurement_services.values_push(actor=world.provider_manager, engagement=engagement, rows=rows)
    return engagement


def _spec(html: str) -> dict:
    return json.loads(re.search(r'<script id="kpi-chart-spec" type="application/json">(.*?)</script>', html, re.S)[1])  # type: ignore[index]


def test_kpi_page_shows_the_trend_panel_and_the_fan(world: World):
    engagement = _engagement(world)
    running = Period.containing("month", local_today(engagement))
    html = client_for(world.provider_manager).get(f"/engagements/{engagement.pk}/kpis/kpi_00/").text
    assert 'data-testid="trend-panel"' in html
    assert re.search(r'data-testid="trend-word">Consistently under-performing<', html)
    # Sign test: 12 misses of 12, one-sided p = 1/4096 = 0.00024.
    assert "12 misses, 0 exceedances and 0 on target in the last 12 periods" in html
    assert "sign test p &lt; 0.001 for misses" in html
    assert "12 misses in a row, since " + running.shift(-12).label in html
    assert "Mann-Kendall over 12 values" in html
    # The method is named on the page: twelve values take exponential smoothing (10 or more).
    assert re.search(r'data-testid="forecast-method">Method: Exponential smoothing, ETS\(', html)
    assert 'data-testid="forecast-table"' in html
    assert f'{running.label} <span class="cell-sub">End of the current period</span>' in html
    spec = _spec(html)
    fan = spec["datasets"]["forecast"]
    # The fan starts at the last closed value (zero width) and opens at the running month.
    assert fan[0]["anchor"] is True
    assert fan[0]["mean"] == fan[0]["lower_95"] == fan[0]["upper_95"] == 74.0
    assert fan[1]["period"].startswith(running.label)
    assert fan[1]["lower_95"] < fan[1]["lower_80"] < fan[1]["mean"] < fan[1]["upper_80"] < fan[1]["upper_95"]
    layers = spec["layer"]
    assert sum(1 for layer in layers if layer.get("data", {}).get("name") == "forecast") == 4
    assert 'data-testid="fan-key"' in html


def test_slope_is_in_the_kpis_unit_and_read_in_its_direction(world: World):
    engagement = _engagement(world)
    html = client_for(world.client_manager).get(f"/engagements/{engagement.pk}/kpis/kpi_01/").text
    # 25, 24, ..., 14: Sen's slope is -1 % a month; falling is better for a lower-is-better KPI.
    assert re.search(r'data-testid="trend-slope">-1 % per month<', html)
    assert re.search(r'data-testid="trend-word">Improving<', html)
    assert "<strong>Improving</strong>: Mann-Kendall over 12 values: S = -66" in html


def test_dashboard_tile_shows_the_trend_word_and_the_running_periods_forecast(world: World):
    engagement = _engagement(world)
    running = Period.containing("month", local_today(engagement))
    html = client_for(world.client_manager).get(f"/engagements/{engagement.pk}/dashboard/").text
    words = re.findall(r'data-testid="tile-trend-word"[^>]*>([^<]+)<', html)
    assert words == ["Consistently under-performing", "Improving"]
    assert f'href="/engagements/{engagement.pk}/kpis/kpi_00/#trend"' in html
    assert html.count(f'data-testid="tile-forecast">Forecast {running.label}: <strong>') == 2
    assert 'chance of meeting the target <span class="cell-sub">(average so far)</span>' in html
    # The tiles use the mean method whatever the history (fitting ETS per tile is too slow) and say so.
    assert 'data-testid="tile-forecast-note"' in html
    # kpi_00: the mean of UNDER is 867 / 12 = 72.25; the page rounds it to 72.25 %.
    assert f"Forecast {running.label}: <strong>72.25 %</strong>" in html


def test_pages_with_trends_read_as_many_queries_for_six_months_as_for_thirty(world: World, build_engagement):
    short = build_engagement(3, 6, "Six months")
    long = build_engagement(3, 30, "Thirty months")
    c = client_for(world.client_manager)
    c.get(f"/engagements/{short.pk}/dashboard/")  # warm the session
    for page in ("dashboard/", "kpis/kpi_00/", "scorecard/?period=2024-06"):
        counts = []
        for engagement in (short, long):
            agreed_cache_clear()
            page_cache_clear()
            with CaptureQueriesContext(connection) as ctx:
                assert c.get(f"/engagements/{engagement.pk}/{page}").status_code == 200
            counts.append(len(ctx.captured_queries))
        assert counts[0] == counts[1], page
