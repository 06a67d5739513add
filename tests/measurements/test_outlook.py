"""The outlook selector: each classification word on a hand-built history, runs, signals, forecast, queries.

The words are defined in docs/trends.md ("Classification"); every series below is worked out by
hand against that definition. KPIs from ``agree_kpis``: even codes higher-is-better (target 80),
odd codes lower-is-better (target 20).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from scipy import stats

from pactboard.accounts.services import api_token_create
from pactboard.core.periods import Period, periods_between
from pactboard.engagements.models import Engagement
from pactboard.measurements import services as measurement_services
from pactboard.measurements.outlook import forecast_cache_clear, kpi_outlooks
from tests.conftest import World, client_for, make_engagement
from tests.dashboards.conftest import agree_kpis, kpi_code

NOW = datetime(2026, 1, 15, 12, tzinfo=UTC)  # closed months: 2025-01 .. 2025-12; running: 2026-01
MONTHS = periods_between("month", Period("month", date(2025, 1, 1)), Period("month", date(2025, 12, 1)))

# Higher-is-better, target 80.
UNDER = [70, 72, 71, 74, 73, 72, 75, 71, 70, 73, 72, 74]  # 12 misses of 12: sign test p = 1/4096
OVER = [85, 86, 88, 84, 87, 85, 86, 89, 85, 84, 88, 86]  # 12 exceedances of 12
# Strictly rising, 5 misses (71..79) and 7 exceedances (81..93): sign test P(X >= 7 | 12) = 0.387,
# not significant. Mann-Kendall: S = 66 (every pair rises), Var S = 12*11*29/18 = 212.67,
# Z = 65 / 14.58 = 4.46, p < 0.001: rising, so improving for a higher-is-better KPI.
IMPROVING = [71, 73, 75, 77, 79, 81, 83, 85, 87, 89, 91, 93]
DECLINING = list(reversed(IMPROVING))  # the same counts; S = -66: declining
# 79, 81 alternating: 6 misses, 6 exceedances (P(X >= 6 | 12) = 0.613). S = 21 - 15 = 6 (a 79 at
# position 2k precedes 6 - k of the 81s, an 81 at 2m + 1 precedes 5 - m of the 79s); ties: two
# groups of six, Var S = (3828 - 2 * 510) / 18 = 156, Z = 5 / 12.49 = 0.40, p = 0.69: stable.
STABLE = [79, 81] * 6
# Lower-is-better, target 20: falling 25 .. 14. Misses 25..21 (5), 20 on target (dropped), 19..14
# exceedances (6): P(X >= 6 | 11) = 0.5. S = -66: falling, so improving for a lower-is-better KPI.
LOWER_IMPROVING = list(range(25, 13, -1))

SERIES = {
    kpi_code(0): UNDER,
    kpi_code(2): OVER,
    kpi_code(4): IMPROVING,
    kpi_code(6): DECLINING,
    kpi_code(8): STABLE,
    kpi_code(1): LOWER_IMPROVING,
    kpi_code(10): [70, 72, 74, 76, 78],  # five values, the last five months
}


@pytest.fixture(autouse=True)
def _fresh_forecasts():
    forecast_cache_clear()
    yield
    forecast_cache_clear()


def _engagement(world: World, n: int, series: dict[str, list[int]], name: str = "Outlook") -> Engagement:
    engagement = make_engagement(world.client_org, world.provider_org, name)
    engagement.start_date, engagement.end_date = date(2025, 1, 1), date(2027, 12, 31)
    engagement.save()
    agree_kpis(world, engagement, n)
    rows = [
        measurement_services.ValueRow(kpi_code=code, period=p, value=Decimal(v))
        for code, values in series.items()
        for p, v in zip(MONTHS[len(MONTHS) - len(values) :], values, strict=True)
    ]
    measurement_services.values_push(actor=world.provider_manager, engagement=engagement, rows=rows)
    return engagement


@pytest.fixture
def outlooks(world: World):
    engagement = _engagement(world, 11, SERIES)
    return kpi_outlooks(engagement=engagement, now=NOW)


def test_each_word_on_its_hand_built_history(outlooks):
    words = {code: o.word for code, o in outlooks.items()}
    assert words[kpi_code(0)] == "consistently_under_performing"
    assert words[kpi_code(2)] == "consistently_over_achieving"
    assert words[kpi_code(4)] == "improving"
    assert words[kpi_code(6)] == "declining"
    assert words[kpi_code(8)] == "stable"
    assert words[kpi_code(1)] == "improving"  # falling values on a lower-is-better KPI
    assert words[kpi_code(10)] == "insufficient_data"  # five values, six needed
    assert words[kpi_code(3)] == "insufficient_data"  # no values at all
    assert outlooks[kpi_code(0)].word_label == "Consistently under-performing"


def test_evidence_carries_the_tests_numbers(outlooks):
    under = outlooks[kpi_code(0)].classification
    assert (under.misses, under.exceedances, under.window) == (12, 0, 12)
    assert under.p_under == pytest.approx(1 / 4096)
    improving = outlooks[kpi_code(4)].trend
    assert improving is not None
    assert improving.s == 66
    assert improving.var_s == pytest.approx(12 * 11 * 29 / 18)
    assert improving.slope == pytest.approx(2.0)  # every pair rises 2 per month: the median is 2
    stable = outlooks[kpi_code(8)].trend
    assert stable is not None
    assert stable.s == 6
    assert stable.var_s == pytest.approx(156)
    assert outlooks[kpi_code(1)].trend.slope == pytest.approx(-1.0)  # % per month


def test_history_is_judged_by_the_version_in_force(outlooks):
    under = outlooks[kpi_code(0)]
    assert [h.period.label for h in under.history] == [p.label for p in MONTHS]
    assert all(h.target == Decimal(80) and h.version_number == 1 for h in under.history)
    # 70..75 against target 80 and amber 75: 75 is at risk, the rest missed.
    assert [h.status for h in under.history[:7]] == ["missed"] * 6 + ["at_risk"]
    assert under.current == Period("month", date(2026, 1, 1))


def test_runs_current_and_longest(outlooks):
    under = outlooks[kpi_code(0)]
    assert under.current_run is not None
    assert under.current_run.kind == "miss"
    assert under.current_run.length == 12
    assert (under.longest_misses, under.longest_exceedances) == (12, 0)
    # Improving: 71..79 are five misses, then seven exceedances up to the last month.
    improving = outlooks[kpi_code(4)]
    assert improving.current_run.kind == "exceedance"
    assert improving.current_run.length == 7
    assert (improving.longest_misses, improving.longest_exceedances) == (5, 7)
    stable = outlooks[kpi_code(8)]
    assert (stable.longest_misses, stable.longest_exceedances) == (1, 1)


def test_control_chart_signals_by_rule(outlooks):
    # Strictly rising twelve values: Nelson test 3 ("six points in a row steadily increasing")
    # completes at the 6th point and at every point after it: months 2025-06 .. 2025-12.
    improving = outlooks[kpi_code(4)]
    nelson3 = [g for g in improving.rule_signals() if g.rule == "nelson3"]
    assert nelson3
    assert nelson3[0].periods == tuple(p.label for p in MONTHS[5:])
    assert nelson3[0].sides == ("increasing",)
    assert nelson3[0].name == "Nelson test 3"
    # Five values: fewer than eight, the chart is not read.
    short = outlooks[kpi_code(10)]
    assert short.limits is None
    assert short.signals == ()
    assert "at least 8" in short.signals_reason


def test_forecast_by_the_mean_method_on_five_values(outlooks):
    """Five values 70, 72, 74, 76, 78: the mean method (docs/trends.md, "Forecasts").

    mean 74; s = sqrt((16 + 4 + 0 + 4 + 16) / 4) = sqrt(10); scale = s * sqrt(1 + 1/5) = sqrt(12);
    80 % interval: 74 +/- t(0.9, 4) * sqrt(12); P(value >= 80) = P(T4 > 6 / sqrt(12)).
    """
    fc = outlooks[kpi_code(10)].forecast
    assert fc is not None
    assert fc.method == "mean"
    assert "no trend or season" in fc.method_name
    (point,) = fc.points
    assert point.period == Period("month", date(2026, 1, 1))
    assert point.reason == "current_period"
    half = stats.t.ppf(0.9, 4) * math.sqrt(12)
    assert (point.mean, point.lower_80, point.upper_80) == pytest.approx((74, 74 - half, 74 + half))
    assert point.probability_meeting == pytest.approx(stats.t.sf(6 / math.sqrt(12), 4))
    assert point.target == Decimal(80)


def test_forecast_uses_ets_on_twelve_values_and_names_it(outlooks):
    fc = outlooks[kpi_code(8)].forecast
    assert fc is not None
    assert fc.method == "ets"
    assert fc.method_name.startswith("Exponential smoothing")
    (point,) = fc.points
    assert point.lower_95 <= point.lower_80 <= point.mean <= point.upper_80 <= point.upper_95
    assert 0 <= point.probability_meeting <= 1


def test_codes_and_no_forecast(world: World):
    engagement = _engagement(world, 3, {kpi_code(0): UNDER})
    only = kpi_outlooks(engagement=engagement, now=NOW, codes=[kpi_code(0)], forecast="none")
    assert list(only) == [kpi_code(0)]
    assert only[kpi_code(0)].forecast is None
    assert kpi_outlooks(engagement=engagement, now=NOW, codes=["nope"]) == {}


def test_queries_do_not_grow_with_kpis_or_periods(world: World):
    small = _engagement(world, 1, {kpi_code(0): UNDER[-3:]}, name="Small")
    large = _engagement(world, 11, SERIES, name="Large")
    with CaptureQueriesContext(connection) as few:
        kpi_outlooks(engagement=small, now=NOW)
    with CaptureQueriesContext(connection) as many:
        kpi_outlooks(engagement=large, now=NOW)
    assert len(few.captured_queries) == len(many.captured_queries) == 4


def test_scorecard_trend_column_links_to_the_kpi_pages_trend_panel(world: World):
    engagement = _engagement(world, 11, SERIES)
    response = client_for(world.client_manager).get(f"/engagements/{engagement.pk}/scorecard/?period=2025-12")
    assert response.status_code == 200
    cells = re.findall(r'data-testid="scorecard-trend"><a [^>]*href="([^"]+)"[^>]*>([^<]+)<', response.text)
    by_code = {href.split("/kpis/")[1].split("/")[0]: word for href, word in cells}
    # As of the end of 2025-12: the same twelve closed months as above.
    assert by_code[kpi_code(0)] == "Consistently under-performing"
    assert by_code[kpi_code(2)] == "Consistently over-achieving"
    assert by_code[kpi_code(6)] == "Declining"
    assert by_code[kpi_code(8)] == "Stable"
    assert all(href.endswith("/#trend") for href, _ in cells)
    # As of the end of 2025-06 the improving KPI had six values 71..81, all rising: Mann-Kendall
    # S = 15, Var S = 6*5*17/18 = 28.33, Z = 14 / 5.32 = 2.63, p = 0.0085: improving already.
    mid = client_for(world.client_manager).get(f"/engagements/{engagement.pk}/scorecard/?period=2025-06").text
    assert re.search(rf'href="/engagements/{engagement.pk}/kpis/{kpi_code(4)}/#trend"[^>]*>Improving<', mid)


def test_outlook_api_serves_the_same_numbers_and_404s_an_outsider(world: World):
    engagement = _engagement(world, 11, SERIES)
    _, raw = api_token_create(membership=world.provider_manager, name="outlook")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    one = api.get(f"/api/engagements/{engagement.pk}/kpis/{kpi_code(4)}/outlook")
    assert one.status_code == 200
    body = one.json()
    # The running period is today's; the history ends at the last closed month (values in 2025 only).
    assert body["classification"]["word"] == "improving"
    assert body["trend"]["s"] == 66
    assert body["trend"]["slope"] == pytest.approx(2.0)
    assert body["history"][0] == {
        "period": "2025-01",
        "value": "71.000000",
        "target": "80.000000",
        "status": "missed",
        "agreement_version": 1,
    }
    assert body["runs"]["longest_misses"] == 5
    assert {s["rule"] for s in body["control_chart"]["signals"]} >= {"nelson3"}
    assert body["forecast"]["method"] in {"ets", "mean"}
    point = body["forecast"]["points"][0]
    assert point["reason"] == "current_period"
    assert point["lower_95"] <= point["lower_80"] <= point["mean"] <= point["upper_80"] <= point["upper_95"]
    everything = api.get(f"/api/engagements/{engagement.pk}/outlook?forecast=false").json()["items"]
    assert [o["code"] for o in everything] == [kpi_code(i) for i in range(11)]
    assert all(o["forecast"] is None for o in everything)
    assert api.get(f"/api/engagements/{engagement.pk}/kpis/nope/outlook").status_code == 404
    _, other = api_token_create(membership=world.outsider, name="outsider")
    outsider = Client(HTTP_AUTHORIZATION=f"Bearer {other}")
    assert outsider.get(f"/api/engagements/{engagement.pk}/kpis/{kpi_code(4)}/outlook").status_code == 404
    assert outsider.get(f"/api/engagements/{engagement.pk}/outlook").status_code == 404
