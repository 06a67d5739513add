"""A KPI's trend and next-period forecast as the cells of a report row (docs/reports.md, docs/trends.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pactboard.core.formatting import ratio_percent_text, value_text
from pactboard.measurements.outlook import KpiOutlook


def _float_text(value: float | None, places: int = 6) -> str | None:
    return None if value is None else str(round(Decimal(repr(value)), places))


def outlook_cells(outlook: KpiOutlook | None, *, currency: str) -> dict[str, Any]:
    """A KPI's trend word, Mann-Kendall figures and next-period forecast (docs/trends.md), as report cells."""
    empty: dict[str, Any] = dict.fromkeys(
        (
            "trend",
            "trend_text",
            "trend_reason",
            "trend_slope",
            "trend_p_value",
            "forecast_period",
            "forecast",
            "forecast_lower_80",
            "forecast_upper_80",
            "forecast_lower_95",
            "forecast_upper_95",
            "forecast_probability",
            "forecast_method",
            "forecast_text",
        )
    )
    if outlook is None:
        return empty
    fields = dict(empty)
    trend = outlook.trend
    fields |= {
        "trend": outlook.word,
        "trend_text": outlook.word_label,
        "trend_reason": outlook.classification.reason,
        "trend_slope": _float_text(trend.slope) if trend else None,
        "trend_p_value": _float_text(trend.p_value, 4) if trend else None,
    }
    fc = outlook.forecast

    def show(x: float) -> str:
        return value_text(Decimal(repr(x)), unit=outlook.unit, currency=currency)

    point = next((p for p in fc.points if p.reason == "current_period"), None) if fc else None
    if fc is not None and point is not None:
        fields |= {
            "forecast_period": point.period.label,
            "forecast": _float_text(point.mean),
            "forecast_lower_80": _float_text(point.lower_80),
            "forecast_upper_80": _float_text(point.upper_80),
            "forecast_lower_95": _float_text(point.lower_95),
            "forecast_upper_95": _float_text(point.upper_95),
            "forecast_probability": _float_text(point.probability_meeting, 4),
            "forecast_method": fc.method_name,
            # Short enough for a table cell: "76.2 % (75.9 % to 76.6 %), 100 % likely"; the 80 % interval.
            "forecast_text": (
                f"{show(point.mean)} ({show(point.lower_80)} to {show(point.upper_80)}), "
                f"{ratio_percent_text(Decimal(repr(point.probability_meeting)))} likely"
            ),
        }
    return fields
