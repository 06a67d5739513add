"""Forecasts: the short-history method worked by hand, ETS checked against statsmodels' own intervals.

The mean method's figures use Student's t with 2 degrees of freedom, whose distribution function
and quantiles have closed forms: F(t) = 1/2 + t / (2 sqrt(2 + t^2)), t_p = (2p - 1) / sqrt(2p(1 - p)).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from pactboard.core.errors import PactboardError
from pactboard.core.periods import Period, periods_between
from pactboard.scoring.attainment import KpiTerms, Milestone
from pactboard.scoring.forecasts import Predictive, kpi_forecast, series_forecast


def t2_cdf(t: float) -> float:
    return 0.5 + t / (2 * math.sqrt(2 + t * t))


def t2_quantile(p: float) -> float:
    return (2 * p - 1) / math.sqrt(2 * p * (1 - p))


def test_mean_method_for_a_short_history_by_hand() -> None:
    # 10, 12, 14: mean 12, s = 2, scale = s * sqrt(1 + 1/3) = 2.3094, df = 2.
    # t(2) quantiles: 0.9 -> 0.8 / sqrt(0.18) = 1.8856; 0.975 -> 0.95 / sqrt(0.04875) = 4.3027.
    result = series_forecast(values=[10, 12, 14], horizons=[1, 3])
    assert result.method == "mean"
    scale = 2 * math.sqrt(4 / 3)
    for predictive in result.predictions:
        assert (predictive.mean, predictive.df) == (12, 2)
        assert predictive.scale == pytest.approx(scale)
        assert predictive.interval(0.8) == pytest.approx((12 - 1.8856 * scale, 12 + 1.8856 * scale), abs=1e-3)
        assert predictive.interval(0.95) == pytest.approx(
            (12 - t2_quantile(0.975) * scale, 12 + t2_quantile(0.975) * scale)
        )
    # P(value >= 10) = P(T >= -2 / 2.3094) = F(0.8660) = 0.5 + 0.866 / (2 sqrt(2.75)) = 0.7611.
    first = result.predictions[0]
    assert first.probability_meeting(direction="higher", target=10) == pytest.approx(t2_cdf(2 / scale))
    assert first.probability_meeting(direction="lower", target=10) == pytest.approx(1 - t2_cdf(2 / scale))


def test_too_short_for_any_forecast() -> None:
    assert series_forecast(values=[None, 10, None, 12], horizons=[1]).method == "none"


def test_horizons_start_at_one() -> None:
    with pytest.raises(PactboardError, match="start at 1"):
        series_forecast(values=[1, 2, 3], horizons=[0])


def test_zero_spread_gives_certain_probabilities() -> None:
    flat = Predictive(horizon=1, mean=5, scale=0)
    assert flat.interval(0.95) == (5, 5)
    assert flat.probability_meeting(direction="higher", target=5) == 1
    assert flat.probability_meeting(direction="higher", target=5.1) == 0


def _seasonal_series(months: int) -> list[float]:
    # A level of 100, a seasonal swing of +/-10 (sine over 12 months) and small seeded noise.
    rng = np.random.default_rng(7)
    return [100 + 10 * math.sin(2 * math.pi * i / 12) + float(rng.normal(0, 0.5)) for i in range(months)]


def test_ets_with_two_seasons_matches_statsmodels_intervals() -> None:
    values = _seasonal_series(36)
    result = series_forecast(values=values, horizons=[1, 6], season_length=12)
    assert result.method == "ets"
    assert "season 12" in result.model  # the seasonal model wins on a clean season: AICc
    # Refit the chosen model directly and read statsmodels' own 80 % interval (summary_frame). Its
    # residual variance is SSE / n; ours is SSE / (n - k), k = df_model parameters, so our
    # interval is statsmodels' widened about the mean by sqrt(n / (n - k)).
    trend = {"trend": "add", "damped_trend": True} if "Ad" in result.model else {"trend": None}
    fit = ETSModel(pd.Series(values), error="add", seasonal="add", seasonal_periods=12, **trend).fit(disp=False)
    frame = fit.get_prediction(start=36, end=41).summary_frame(alpha=0.2)
    widen = math.sqrt(36 / (36 - fit.df_model))
    for predictive, row in zip(result.predictions, (0, 5), strict=True):
        mean = frame["mean"].iloc[row]
        assert predictive.mean == pytest.approx(mean)
        half = (frame["pi_upper"].iloc[row] - frame["pi_lower"].iloc[row]) / 2
        assert predictive.interval(0.8) == pytest.approx((mean - half * widen, mean + half * widen))
    # The next month is month 36: 10 * sin(2 pi * 36 / 12) = 0; six on is month 41:
    # 10 * sin(2 pi * 41 / 12) = 10 * sin(5 pi / 6) = +5. The noise sd is 0.5.
    assert result.predictions[0].mean == pytest.approx(100, abs=2)
    assert result.predictions[1].mean == pytest.approx(105, abs=2)


def test_ets_without_two_seasons_is_not_seasonal_and_fills_gaps() -> None:
    values: list[float | None] = list(_seasonal_series(20))
    values[5] = None
    result = series_forecast(values=values, horizons=[1], season_length=12)
    assert result.method == "ets"
    assert "season" not in result.model
    assert (result.points, result.filled) == (19, 1)


# --- kpi_forecast: which periods, which targets ----------------------------------------------


def _months(first: str, values: list[str | None]) -> list[tuple[Period, Decimal | None]]:
    start = Period.parse(first)
    return [(start.shift(i), None if v is None else Decimal(v)) for i, v in enumerate(values)]


def test_current_period_and_coming_milestones_with_the_target_in_force() -> None:
    terms = KpiTerms(
        code="FCR",
        direction="higher",
        target=Decimal(15),
        milestones=(
            Milestone(date=dt.date(2026, 3, 31), target=Decimal(9)),  # passed: before the current period
            Milestone(date=dt.date(2026, 6, 15), target=Decimal(11)),  # judged on 2026-05, already measured
            Milestone(date=dt.date(2026, 9, 30), target=Decimal(13)),
        ),
    )
    result = kpi_forecast(history=_months("2026-03", ["10", "12", "14"]), terms=terms, current=Period.parse("2026-06"))
    assert result.method == "mean"
    assert "no trend" in result.method_name
    assert [(p.period.label, p.reason, p.horizon, p.target) for p in result.points] == [
        ("2026-06", "current_period", 1, Decimal(13)),  # earliest milestone on or after 30 June: 30 Sep
        ("2026-09", "milestone", 4, Decimal(13)),
    ]
    # P(value >= 13) = 1 - F((13 - 12) / 2.3094) = 0.5 - 0.4330 / (2 sqrt(2.1875)) = 0.3536.
    scale = 2 * math.sqrt(4 / 3)
    assert result.points[1].probability_meeting == pytest.approx(1 - t2_cdf(1 / scale))
    assert result.points[1].lower_95 < result.points[1].lower_80 < result.points[1].mean


def test_a_trailing_gap_lengthens_the_horizon() -> None:
    terms = KpiTerms(code="FCR", direction="lower", target=Decimal(15))
    result = kpi_forecast(
        history=_months("2026-01", ["10", "12", "14", None]), terms=terms, current=Period.parse("2026-05")
    )
    assert result.last_period == Period.parse("2026-04")
    assert [(p.period.label, p.horizon) for p in result.points] == [("2026-05", 1)]
    # Lower is better: P(value <= 15) = F(3 / 2.3094).
    assert result.points[0].probability_meeting == pytest.approx(t2_cdf(3 / (2 * math.sqrt(4 / 3))))


def test_ets_for_a_long_monthly_history() -> None:
    months = periods_between("month", Period.parse("2024-01"), Period.parse("2026-12"))
    history = [(p, Decimal(str(round(v, 4)))) for p, v in zip(months, _seasonal_series(36), strict=True)]
    terms = KpiTerms(code="CSAT", direction="higher", target=Decimal(90))
    result = kpi_forecast(history=history, terms=terms, current=Period.parse("2027-01"))
    assert result.method == "ets"
    assert result.method_name.startswith("Exponential smoothing, ETS(")
    assert result.points[0].probability_meeting > 0.9  # ~100 expected against 90, spread ~1


def test_history_of_another_kind_is_refused() -> None:
    terms = KpiTerms(code="FCR", direction="higher", target=Decimal(15))
    with pytest.raises(PactboardError) as caught:
        kpi_forecast(history=[(Period.parse("2026-Q1"), Decimal(1))], terms=terms, current=Period.parse("2026-06"))
    assert caught.value.details[0].location == "history[0].period"


def test_simple_asks_for_the_mean_method_on_a_long_history() -> None:
    # Twelve values 10, 12, ..., 32 would take ETS; simple=True takes their mean, 21, as the forecast,
    # with s = sqrt(sum((x - 21)^2) / 11) = sqrt(572 / 11) and 11 degrees of freedom.
    values = [10 + 2 * i for i in range(12)]
    quick = series_forecast(values=values, horizons=[1], simple=True)
    assert quick.method == "mean"
    (predictive,) = quick.predictions
    assert (predictive.mean, predictive.df) == (21, 11)
    assert predictive.scale == pytest.approx(math.sqrt(572 / 11) * math.sqrt(1 + 1 / 12))
    months = periods_between("month", Period.parse("2026-01"), Period.parse("2026-12"))
    history = [(p, Decimal(v)) for p, v in zip(months, values, strict=True)]
    terms = KpiTerms(code="FCR", direction="higher", target=Decimal(15))
    result = kpi_forecast(history=history, terms=terms, current=Period.parse("2027-01"), simple=True)
    assert result.method == "mean"
    assert "quick method" in result.method_name
    assert result.points[0].mean == 21
