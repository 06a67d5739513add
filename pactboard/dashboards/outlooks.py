"""A KPI's outlook in words for the pages: the trend panel, the forecast table and the tile's forecast line.

The numbers come from ``measurements.outlook`` (docs/trends.md); this module only words them, by the
one formatting rule (``core.formatting``): values in the KPI's unit, p-values to three places.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pactboard.core.formatting import date_text, number_text, value_text
from pactboard.measurements.outlook import KpiOutlook, RuleSignals
from pactboard.scoring.forecasts import ForecastPoint

TREND_WORDS = {"improving": "Improving", "declining": "Declining", "no_trend": "No significant trend"}


def _d(x: float) -> Decimal:
    return Decimal(repr(x))


def p_text(p: float | None) -> str:
    if p is None:
        return "—"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def amount_text(x: float, *, unit: str, currency: str) -> str:
    """A forecast or slope in the KPI's unit; counts keep two places (a slope of 0.3 a month is not 0)."""
    return value_text(_d(x), unit="" if unit == "count" else unit, currency=currency)


def slope_text(slope: float, *, unit: str, currency: str, kind: str) -> str:
    text = amount_text(slope, unit=unit, currency=currency)
    sign = "+" if slope > 0 else ""
    return f"{sign}{text} per {kind}"


def percent_text(p: float) -> str:
    return f"{number_text(_d(p * 100), places=0)} %"


@dataclass(frozen=True)
class ForecastRow:
    period: str
    what: str  # "End of the current period" or "Milestone of 1 Mar 2027"
    point: str
    interval_80: str
    interval_95: str
    target: str
    probability: str


@dataclass(frozen=True)
class TrendPanel:
    code: str
    word: str
    word_label: str
    reason: str
    sign_test: str
    mann_kendall: str | None  # None: too few values for the test
    trend_word: str
    slope: str
    current_run: str
    longest_misses: int
    longest_exceedances: int
    chart_reason: str
    rules: list[RuleSignals]
    method: str
    forecast_note: str
    forecasts: list[ForecastRow]


def forecast_row(point: ForecastPoint, *, unit: str, currency: str) -> ForecastRow:
    def amount(x: float) -> str:
        return amount_text(x, unit=unit, currency=currency)

    return ForecastRow(
        period=point.period.label,
        what=(
            "End of the current period"
            if point.reason == "current_period"
            else f"Milestone of {date_text(point.milestone_date)}"
        ),
        point=amount(point.mean),
        interval_80=f"{amount(point.lower_80)} to {amount(point.upper_80)}",
        interval_95=f"{amount(point.lower_95)} to {amount(point.upper_95)}",
        target=value_text(point.target, unit=unit, currency=currency),
        probability=percent_text(point.probability_meeting),
    )


def trend_panel(outlook: KpiOutlook, *, currency: str) -> TrendPanel:
    """The trend panel of the KPI page: the word and its evidence, the chart's signals, the forecasts."""
    c = outlook.classification
    unit, kind = outlook.unit, outlook.period_kind
    sign = (
        f"{c.misses} misses, {c.exceedances} exceedances and {c.on_target} on target in the last {c.window} periods "
        f"with a target; sign test {p_text(c.p_under)} for misses, {p_text(c.p_over)} for exceedances."
        if c.window
        else "No period with a value and a target yet."
    )
    trend = c.trend
    mk = (
        f"Mann-Kendall over {trend.n} values: S = {trend.s}, Kendall's tau = {trend.tau:.2f}, {p_text(trend.p_value)} "
        "(two-sided)."
        if trend is not None
        else None
    )
    run = outlook.current_run
    if run is None:
        current = "None: the last period neither missed nor beat its target."
    else:
        noun = "miss" if run.kind == "miss" else "exceedance"
        plural = "es" if run.kind == "miss" else "s"
        current = f"{run.length} {noun}{plural if run.length != 1 else ''} in a row, since {run.labels[0]}."
    fc = outlook.forecast
    forecasts = [forecast_row(p, unit=unit, currency=currency) for p in (fc.points if fc else ())]
    if fc is None:
        note = ""
    elif fc.method == "none":
        note = f"No forecast: {fc.history_points} values, at least 3 are needed."
    elif not fc.points:
        note = "Nothing ahead to forecast: the engagement's last period has closed."
    else:
        filled = f", {fc.filled} missing period{'s' if fc.filled != 1 else ''} filled by interpolation"
        note = f"From {fc.history_points} closed periods{filled if fc.filled else ''}."
    return TrendPanel(
        code=outlook.code,
        word=c.word,
        word_label=outlook.word_label,
        reason=c.reason,
        sign_test=sign,
        mann_kendall=mk,
        trend_word=TREND_WORDS[trend.word] if trend else "Not tested",
        slope=slope_text(trend.slope, unit=unit, currency=currency, kind=kind) if trend else "—",
        current_run=current,
        longest_misses=outlook.longest_misses,
        longest_exceedances=outlook.longest_exceedances,
        chart_reason=outlook.signals_reason,
        rules=outlook.rule_signals(),
        method=fc.method_name if fc else "",
        forecast_note=note,
        forecasts=forecasts,
    )


@dataclass(frozen=True)
class TileForecast:
    period: str
    point: str
    probability: str
    method: str  # "ets" or "mean"


def tile_forecast(outlook: KpiOutlook | None, *, currency: str) -> TileForecast | None:
    """The forecast for the running period, for the dashboard tile (None when there is none)."""
    fc = outlook.forecast if outlook else None
    if outlook is None or fc is None:
        return None
    point = next((p for p in fc.points if p.reason == "current_period"), None)
    if point is None:
        return None
    return TileForecast(
        period=point.period.label,
        point=amount_text(point.mean, unit=outlook.unit, currency=currency),
        probability=percent_text(point.probability_meeting),
        method=fc.method,
    )
