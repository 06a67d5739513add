"""Where a KPI will land: at the end of the current period and at each coming milestone, with
80 % and 95 % prediction intervals and the probability of meeting the target in force then.

Pure (no ORM). Not exported from ``pactboard.scoring``: statsmodels takes seconds to import, and
the attainment rules that every page uses should not pay for it. docs/trends.md, "Forecasts",
is the definition; ``bench/bench_forecasts.py`` measures how often the intervals cover.

Methods, named in the result so the page can say which one it used:

- **ets** (10 values or more): exponential smoothing state-space models with additive errors
  (statsmodels ``ETSModel``, Hyndman et al., *Forecasting with Exponential Smoothing*, 2008):
  ETS(A,N,N) and ETS(A,Ad,N); with two full seasons of history (24 months, 8 quarters) also
  ETS(A,N,A) and ETS(A,Ad,A). The lowest AICc wins. With additive errors the forecast
  distribution is normal with statsmodels' analytic variance, its residual variance taken over
  n minus the parameters estimated rather than n; intervals and probabilities come from it.
  Parameter uncertainty is not in that variance, which is one reason to backtest.
- **mean** (3 to 9 values): the mean of the values with the classical prediction interval for a
  new observation, mean +/- t(n-1) * s * sqrt(1 + 1/n) (e.g. Hahn & Meeker, *Statistical
  Intervals*, 4.4). It assumes no trend and no season: the page says so.
- **none** (fewer than 3 values): no forecast.

Missing periods: leading and trailing gaps are left out (a trailing gap lengthens the horizon);
ETS needs a regular series, so interior gaps are filled by linear interpolation and counted in
``filled``; the mean method simply uses the values present.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import numpy as np

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.core.periods import Period, PeriodKind, periods_between
from pactboard.scoring.attainment import Direction, KpiTerms, target_in_force
from pactboard.scoring.series import series_check

__all__ = [
    "ETS_MIN_POINTS",
    "MEAN_MIN_POINTS",
    "SEASON_LENGTH",
    "ForecastMethod",
    "ForecastPoint",
    "KpiForecast",
    "Predictive",
    "SeriesForecast",
    "kpi_forecast",
    "series_forecast",
]

ETS_MIN_POINTS = 10
MEAN_MIN_POINTS = 3
# Weeks have no seasonal model: 52 seasonal states on two or three years of data over-fit.
SEASON_LENGTH: dict[PeriodKind, int | None] = {"month": 12, "quarter": 4, "week": None}

ForecastMethod = Literal["ets", "mean", "none"]
_METHOD_NAMES: dict[ForecastMethod, str] = {
    "ets": "Exponential smoothing",
    "mean": "Average of the values so far (no trend or season assumed; too short a history for smoothing)",
    "none": "No forecast",
}


@dataclass(frozen=True, kw_only=True)
class Predictive:
    """The forecast distribution ``horizon`` periods after the last period: normal, or Student t with ``df``."""

    horizon: int
    mean: float
    scale: float
    df: float | None = None

    def quantile(self, p: float) -> float:
        if self.scale == 0:
            return self.mean
        from scipy import stats  # imported when used: scipy and statsmodels take seconds to load

        z = stats.norm.ppf(p) if self.df is None else stats.t.ppf(p, self.df)
        return float(self.mean + z * self.scale)

    def interval(self, level: float) -> tuple[float, float]:
        """The central prediction interval holding ``level`` (0.8 for 80 %) of the probability."""
        tail = (1 - level) / 2
        return self.quantile(tail), self.quantile(1 - tail)

    def probability_meeting(self, *, direction: Direction, target: float) -> float:
        """P(value at or beyond the target in ``direction``)."""
        if self.scale == 0:
            met = self.mean >= target if direction == "higher" else self.mean <= target
            return 1.0 if met else 0.0
        z = (target - self.mean) / self.scale
        from scipy import stats

        below = stats.norm.cdf(z) if self.df is None else stats.t.cdf(z, self.df)
        return float(1 - below if direction == "higher" else below)


@dataclass(frozen=True, kw_only=True)
class SeriesForecast:
    method: ForecastMethod
    model: str  # e.g. "ETS(A,Ad,A), season 12" or "mean of 7 values"
    points: int  # values the method used
    filled: int  # interior missing periods filled by interpolation (ETS only)
    predictions: tuple[Predictive, ...]


def _ets_candidates(n: int, season_length: int | None) -> list[tuple[str, dict[str, object]]]:
    candidates: list[tuple[str, dict[str, object]]] = [
        ("ETS(A,N,N)", {"trend": None}),
        ("ETS(A,Ad,N)", {"trend": "add", "damped_trend": True}),
    ]
    if season_length and n >= 2 * season_length:
        seasonal = {"seasonal": "add", "seasonal_periods": season_length}
        candidates += [
            (f"ETS(A,N,A), season {season_length}", {"trend": None, **seasonal}),
            (f"ETS(A,Ad,A), season {season_length}", {"trend": "add", "damped_trend": True, **seasonal}),
        ]
    return candidates


def _ets(y: np.ndarray, steps: list[int], season_length: int | None) -> tuple[str, list[Predictive]] | None:
    """The lowest-AICc model's forecasts at ``steps`` (1 = the period after the last value), or None if none fits."""
    import pandas as pd
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    endog = pd.Series(y)
    best: tuple[float, str, object] | None = None
    for name, spec in _ets_candidates(len(y), season_length):
        try:
            with warnings.catch_warnings():
                # Optimiser chatter on short series; a model that fails to converge usually has a
                # poor AICc and loses, and one that cannot be fitted at all is skipped below.
                warnings.simplefilter("ignore", ConvergenceWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
                fit = ETSModel(endog, error="add", **spec).fit(disp=False)
        except (ValueError, np.linalg.LinAlgError):
            continue
        aicc = float(fit.aicc)
        if math.isfinite(aicc) and (best is None or aicc < best[0]):
            best = (aicc, name, fit)
    if best is None:
        return None
    _, name, fit = best
    last = max(steps)
    prediction = fit.get_prediction(start=len(y), end=len(y) + last - 1)  # type: ignore[attr-defined]
    means = np.asarray(prediction.predicted_mean, dtype=float)
    # The forecast variance (despite the name) is statsmodels' residual variance SSE / n times a
    # factor of the smoothing parameters. SSE / n is the maximum-likelihood estimate, too small on
    # short series; we divide by n minus statsmodels' df_model (smoothing parameters and initial
    # states estimated, plus one for the variance). R's forecast::ets divides by n minus the
    # parameters and initial states (ets.R: sigma2 <- sum(residuals^2) / (ny - np)), one fewer.
    free = len(y) - int(fit.df_model)  # type: ignore[attr-defined]
    if free < 1:
        return None
    variances = np.asarray(prediction.var_pred_mean, dtype=float) * (len(y) / free)
    out = []
    for h in steps:
        variance = float(variances[h - 1])
        if not (math.isfinite(variance) and variance >= 0 and math.isfinite(means[h - 1])):
            return None
        out.append(Predictive(horizon=h, mean=float(means[h - 1]), scale=math.sqrt(variance)))
    return name, out


def series_forecast(
    *,
    values: Sequence[float | None],
    horizons: Sequence[int],
    season_length: int | None = None,
    simple: bool = False,
) -> SeriesForecast:
    """Forecasts ``horizons`` periods after the last element of ``values`` (None = a missing period).

    ``simple``: the mean method whatever the length (no model fitted: instant, for many KPIs at once).
    """
    if not horizons or any(h < 1 for h in horizons):
        raise PactboardError(
            "Forecast horizons count periods after the last one and start at 1.",
            details=[ErrorDetail("must be whole numbers of 1 or more", "horizons", "invalid_horizon")],
        )
    present = [i for i, v in enumerate(values) if v is not None]
    if len(present) < MEAN_MIN_POINTS:
        return SeriesForecast(
            method="none", model=f"{len(present)} values", points=len(present), filled=0, predictions=()
        )
    first, last = present[0], present[-1]
    trailing = len(values) - 1 - last  # a trailing gap lengthens every horizon
    steps = [h + trailing for h in horizons]
    window = np.array([math.nan if v is None else v for v in values[first : last + 1]], dtype=float)
    n = len(present)
    if n >= ETS_MIN_POINTS and not simple:
        gaps = np.isnan(window)
        filled = window.copy()
        if gaps.any():
            positions = np.arange(len(window))
            filled[gaps] = np.interp(positions[gaps], positions[~gaps], window[~gaps])
        fitted = _ets(filled, steps, season_length)
        if fitted is not None:
            name, predictions = fitted
            return SeriesForecast(
                method="ets",
                model=name,
                points=n,
                filled=int(gaps.sum()),
                predictions=tuple(
                    Predictive(horizon=h, mean=p.mean, scale=p.scale)
                    for h, p in zip(horizons, predictions, strict=True)
                ),
            )
    sample = window[~np.isnan(window)]
    mean = float(sample.mean())
    scale = float(sample.std(ddof=1)) * math.sqrt(1 + 1 / n)
    return SeriesForecast(
        method="mean",
        model=f"mean of {n} values",
        points=n,
        filled=0,
        predictions=tuple(Predictive(horizon=h, mean=mean, scale=scale, df=n - 1) for h in horizons),
    )


@dataclass(frozen=True, kw_only=True)
class ForecastPoint:
    """The forecast for one period, and the target in force for it."""

    period: Period
    reason: Literal["current_period", "milestone"]
    milestone_date: dt.date | None  # the milestone this point is for (reason "milestone")
    horizon: int  # periods after the last period of the history
    mean: float
    lower_80: float
    upper_80: float
    lower_95: float
    upper_95: float
    target: Decimal
    probability_meeting: float


@dataclass(frozen=True, kw_only=True)
class KpiForecast:
    code: str
    method: ForecastMethod
    method_name: str  # plain words for the page
    model: str
    history_points: int
    filled: int
    last_period: Period | None
    points: tuple[ForecastPoint, ...]


def _judged_period(kind: PeriodKind, day: dt.date) -> Period:
    """The last period judged against a milestone dated ``day``: the one whose last day is on or before it."""
    period = Period.containing(kind, day)
    return period if period.last_day == day else period.previous()


def _history_check(history: Sequence[tuple[Period, Decimal | None]], kind: PeriodKind) -> dict[Period, Decimal | None]:
    problems = [
        ErrorDetail(f"must be a {kind} period", f"history[{i}].period", "wrong_period_kind")
        for i, (period, _) in enumerate(history)
        if not isinstance(period, Period) or period.kind != kind
    ]
    if problems:
        raise PactboardError(f"Give the history as {kind} periods, like the current period.", details=problems)
    series_check([(p.label, v) for p, v in history], location="history")
    return dict(history)


def kpi_forecast(
    *, history: Sequence[tuple[Period, Decimal | None]], terms: KpiTerms, current: Period, simple: bool = False
) -> KpiForecast:
    """Forecasts for the end of ``current`` and for each milestone dated from ``current`` on.

    ``simple``: the mean method even for a long history (see ``series_forecast``).

    ``history`` holds the completed periods (any order, gaps allowed). A point whose period the
    history already covers is left out. Each point carries the target in force for its period
    (``target_in_force``); a milestone's point is the last period judged against it.
    """
    by_period = _history_check(history, current.kind)
    if not any(v is not None for v in by_period.values()):
        return KpiForecast(
            code=terms.code,
            method="none",
            method_name=_METHOD_NAMES["none"],
            model="no values",
            history_points=0,
            filled=0,
            last_period=None,
            points=(),
        )
    first, last = min(by_period), max(by_period)
    periods = periods_between(current.kind, first, last)
    values = [by_period.get(p) for p in periods]
    wanted: list[tuple[Period, Literal["current_period", "milestone"], dt.date | None]] = [
        (current, "current_period", None)
    ]
    wanted += [
        (_judged_period(current.kind, m.date), "milestone", m.date) for m in terms.milestones if m.date >= current.start
    ]
    wanted = [w for w in wanted if w[0] > last]
    horizons = [len(periods_between(current.kind, last, p)) - 1 for p, _, _ in wanted]
    season = SEASON_LENGTH[current.kind]
    if not wanted:
        fitted = SeriesForecast(method="none", model="nothing ahead", points=0, filled=0, predictions=())
    else:
        fitted = series_forecast(
            values=[None if v is None else float(v) for v in values],
            horizons=horizons,
            season_length=season,
            simple=simple,
        )
    points = []
    for (period, reason, milestone_date), predictive in zip(wanted, fitted.predictions, strict=False):
        level = target_in_force(terms=terms, period_last_day=period.last_day).target
        lower_80, upper_80 = predictive.interval(0.8)
        lower_95, upper_95 = predictive.interval(0.95)
        points.append(
            ForecastPoint(
                period=period,
                reason=reason,
                milestone_date=milestone_date,
                horizon=predictive.horizon,
                mean=predictive.mean,
                lower_80=lower_80,
                upper_80=upper_80,
                lower_95=lower_95,
                upper_95=upper_95,
                target=level,
                probability_meeting=predictive.probability_meeting(direction=terms.direction, target=float(level)),
            )
        )
    name = _METHOD_NAMES[fitted.method]
    if simple and fitted.method == "mean" and fitted.points >= ETS_MIN_POINTS:
        name = "Average of the values so far (no trend or season assumed; the quick method, used instead of smoothing)"
    if fitted.method == "ets":
        name = f"{name}, {fitted.model}, chosen by AICc"
    return KpiForecast(
        code=terms.code,
        method=fitted.method,
        method_name=name,
        model=fitted.model,
        history_points=sum(v is not None for v in values),
        filled=fitted.filled,
        last_period=last,
        points=tuple(points),
    )
