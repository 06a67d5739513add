"""A KPI's chart: values against target, amber and stretch bands, baseline, milestones and business changes."""

from __future__ import annotations

import functools
import json
from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any

import altair as alt

from pactboard.core.formatting import date_text
from pactboard.dashboards.charts.common import (
    _TIME_AXIS,
    _Y_HI,
    _Y_LO,
    CHANGE_COLOUR,
    FORECAST_COLOUR,
    INK,
    MUTED,
    STATUS_COLOURS,
    STATUS_LABELS,
    STATUS_SHAPES,
    _f,
    _local,
    _mid,
    _y_domain,
    value_text,
)


def kpi_chart(
    series: Any, *, validate: bool = False, feedback: Collection[date] = (), outlook: Any = None
) -> dict[str, Any]:
    """The KPI over time: values coloured and shaped by status, the target in force (it steps at milestones
    and new versions), the amber and stretch bands, the baseline, milestones and business changes, and the
    forecast as a fan (80 % and 95 % prediction intervals) from the last closed value.

    ``series`` is a ``dashboards.selectors.KpiSeries``; ``feedback``: period starts with an open feedback
    thread, ringed on the chart; ``outlook``: the KPI's ``measurements.outlook.KpiOutlook`` (its forecast).
    """
    kpi = series.kpi
    unit, currency = kpi.unit, series.engagement.currency
    higher = kpi.direction == "higher"
    rows: list[dict[str, Any]] = []
    for p in series.points:
        r = p.result
        rows.append(
            {
                "period": p.period.label,
                "start": _local(p.period.start),
                "end": _local(p.period.end),
                "mid": _local(_mid(p.period)),
                "value": _f(r.value),
                "target": _f(r.target),
                "amber": _f(r.amber),
                "stretch": _f(r.stretch),
                "status": STATUS_LABELS[r.status],
                "value_text": value_text(r.value, unit, currency),
                "target_text": value_text(r.target, unit, currency),
                "amber_text": value_text(r.amber, unit, currency),
                "stretch_text": value_text(r.stretch, unit, currency),
            }
        )
    milestones: list[dict[str, Any]] = [
        {
            "date": _local(m.date),
            "target": float(m.target),
            "label": f"Milestone {value_text(m.target, unit, currency)}",
        }
        for m in series.milestones
    ]
    baseline = _f(kpi.baseline_value)
    fan = _fan_rows(outlook, unit, currency)
    numbers: list[float | None] = [baseline]
    for row in rows:
        numbers += [row["value"], row["target"], row["amber"], row["stretch"]]
    numbers += [m["target"] for m in milestones]
    for f in fan:
        numbers += [f["lower_95"], f["upper_95"]]
    lo, hi = _y_domain(numbers)
    first_day, after_last = (
        (series.points[0].period.start, series.points[-1].period.end) if series.points else (None, None)
    )
    for row in rows:
        # The bands run from their level to the edge of the chart on the worse/better side.
        row["worse_edge"] = lo if higher else hi
        row["better_edge"] = hi if higher else lo
    changes = [
        {
            "n": str(i),
            "date": _local(c.date),
            "title": c.title,
            "kind": c.get_kind_display(),
            "description": c.description[:200],
            "top": hi,
        }
        for i, c in enumerate(sorted(series.changes, key=lambda c: (c.date, c.pk)), start=1)
        if first_day is None or after_last is None or first_day <= c.date < after_last
    ]

    datasets: dict[str, list[dict[str, Any]]] = {"points": rows}
    if baseline is not None:
        baseline_label = f"Baseline {value_text(kpi.baseline_value, unit, currency)}"
        if kpi.baseline_period:
            baseline_label += f" ({kpi.baseline_period})"
        datasets["baseline"] = [{"baseline": baseline, "label": baseline_label}]
    if milestones:
        datasets["milestones"] = milestones
    if changes:
        datasets["changes"] = changes
    open_feedback = [
        {"start": row["start"], "y": row["value"] if row["value"] is not None else hi, "period": row["period"]}
        for row, p in zip(rows, series.points, strict=True)
        if p.period.start in feedback
    ]
    if open_feedback:
        datasets["feedback"] = open_feedback
    if fan:
        datasets["forecast"] = fan
    y_title = f"{kpi.name} ({currency if unit == 'currency' else unit})" if unit not in {"count", "score"} else kpi.name
    layout = _kpi_chart_layout(
        y_title=y_title,
        kind=kpi.period,
        parts=tuple(sorted(datasets)),
        validate=validate,
    )
    for sentinel, actual in (
        (_Y_LO, lo),
        (_Y_HI, hi),
    ):
        layout = layout.replace(json.dumps(sentinel), json.dumps(actual))
    spec: dict[str, Any] = json.loads(layout)
    spec["description"] = kpi_chart_summary(series)
    spec["datasets"] = datasets
    return spec


@functools.lru_cache(maxsize=512)
def _kpi_chart_layout(*, y_title: str, kind: str, parts: tuple[str, ...], validate: bool) -> str:
    """The KPI chart's Vega-Lite layout (Altair), without its data, as JSON.

    Altair deep-copies every layer and builds validators as it goes: about 50 ms for this chart. The
    layout depends only on the KPI's name, unit and period kind and on which annotations exist, so it
    is built once per shape and the data and scale domains are filled in per request.
    """
    x_scale = alt.Scale(type="time")
    x = alt.X(
        "start:T",
        title=None,
        scale=x_scale,
        axis=alt.Axis(labelOverlap="parity", labelFlush=False, **_TIME_AXIS[kind]),
    )
    y_scale = alt.Scale(domain=[_Y_LO, _Y_HI], nice=False, zero=False)
    data = alt.Data(name="points")

    band_tooltip = [
        alt.Tooltip("period:N", title="Period"),
        alt.Tooltip("target_text:N", title="Target"),
        alt.Tooltip("amber_text:N", title="Amber threshold"),
        alt.Tooltip("stretch_text:N", title="Stretch"),
    ]
    layers: list[alt.Chart] = [
        alt.Chart(data)
        .mark_rect(color=STATUS_COLOURS["missed"], opacity=0.07)
        .encode(
            x=x, x2="end:T", y=alt.Y("amber:Q", scale=y_scale, title=y_title), y2="worse_edge:Q", tooltip=band_tooltip
        )
        .transform_filter("datum.amber != null"),
        alt.Chart(data)
        .mark_rect(color="#f59e0b", opacity=0.2)
        .encode(x=x, x2="end:T", y=alt.Y("amber:Q", scale=y_scale), y2="target:Q", tooltip=band_tooltip)
        .transform_filter("datum.amber != null"),
        alt.Chart(data)
        .mark_rect(color=STATUS_COLOURS["met"], opacity=0.1)
        .encode(x=x, x2="end:T", y=alt.Y("stretch:Q", scale=y_scale), y2="better_edge:Q", tooltip=band_tooltip)
        .transform_filter("datum.stretch != null"),
        alt.Chart(data)
        .mark_rule(color=INK, strokeWidth=2)
        .encode(x=x, x2="end:T", y=alt.Y("target:Q", scale=y_scale), tooltip=band_tooltip),
    ]
    if "baseline" in parts:
        base = alt.Chart(alt.Data(name="baseline"))
        layers += [
            base.mark_rule(color=MUTED, strokeDash=[6, 4], strokeWidth=1.5).encode(
                y=alt.Y("baseline:Q", scale=y_scale), tooltip=alt.Tooltip("label:N", title="Baseline")
            ),
            base.mark_text(align="right", baseline="bottom", dx=-4, dy=-2, color=MUTED, fontSize=11).encode(
                y=alt.Y("baseline:Q", scale=y_scale), x=alt.value("width"), text="label:N"
            ),
        ]
    if "milestones" in parts:
        ms = alt.Chart(alt.Data(name="milestones"))
        layers += [
            ms.mark_rule(color=MUTED, strokeDash=[2, 3]).encode(
                x=alt.X("date:T", scale=x_scale),
                tooltip=[alt.Tooltip("date:T", title="Milestone date"), alt.Tooltip("label:N", title="")],
            ),
            ms.mark_point(shape="cross", color=INK, size=90, filled=True).encode(
                x=alt.X("date:T", scale=x_scale),
                y=alt.Y("target:Q", scale=y_scale),
                tooltip=[alt.Tooltip("date:T", title="Milestone date"), alt.Tooltip("label:N", title="")],
            ),
        ]
    values_tooltip = [
        alt.Tooltip("period:N", title="Period"),
        alt.Tooltip("value_text:N", title="Value"),
        alt.Tooltip("status:N", title="Status"),
        alt.Tooltip("target_text:N", title="Target"),
        alt.Tooltip("amber_text:N", title="Amber threshold"),
        alt.Tooltip("stretch_text:N", title="Stretch"),
    ]
    if "forecast" in parts:
        fc = alt.Chart(alt.Data(name="forecast"))
        fc_x = alt.X("mid:T", scale=x_scale)
        fc_tooltip = [
            alt.Tooltip("period:N", title="Forecast for"),
            alt.Tooltip("mean_text:N", title="Point forecast"),
            alt.Tooltip("interval_80_text:N", title="80 % interval"),
            alt.Tooltip("interval_95_text:N", title="95 % interval"),
            alt.Tooltip("target_text:N", title="Target in force"),
            alt.Tooltip("probability_text:N", title="Probability of meeting it"),
            alt.Tooltip("method:N", title="Method"),
        ]
        layers += [
            fc.mark_area(color=FORECAST_COLOUR, opacity=0.15).encode(
                x=fc_x, y=alt.Y("lower_95:Q", scale=y_scale), y2="upper_95:Q"
            ),
            fc.mark_area(color=FORECAST_COLOUR, opacity=0.3).encode(
                x=fc_x, y=alt.Y("lower_80:Q", scale=y_scale), y2="upper_80:Q"
            ),
            fc.mark_line(color=FORECAST_COLOUR, strokeDash=[5, 3], strokeWidth=2).encode(
                x=fc_x, y=alt.Y("mean:Q", scale=y_scale)
            ),
            fc.mark_point(shape="diamond", filled=False, color=FORECAST_COLOUR, size=90, strokeWidth=2)
            .encode(x=fc_x, y=alt.Y("mean:Q", scale=y_scale), tooltip=fc_tooltip)
            .transform_filter("!datum.anchor"),
        ]
    statuses = [s for s in STATUS_SHAPES]
    legend_domain = [STATUS_LABELS[s] for s in statuses]
    layers += [
        alt.Chart(data)
        # No filter on null values: a period without data keeps its null row, and Vega-Lite breaks the
        # path there (mark.invalid "break-paths-…"), so the line never bridges a month nobody measured.
        .mark_line(color="#1e3a8a", strokeWidth=2, invalid="break-paths-show-domains")
        .encode(x=alt.X("mid:T", scale=x_scale), y=alt.Y("value:Q", scale=y_scale)),
        alt.Chart(data)
        .mark_point(filled=True, size=85, opacity=1, stroke="#ffffff", strokeWidth=1)
        .encode(
            x=alt.X("mid:T", scale=x_scale),
            y=alt.Y("value:Q", scale=y_scale),
            color=alt.Color(
                "status:N",
                title="Status",
                legend=None,  # the page's own key says it in words, and wraps on a phone
                scale=alt.Scale(domain=legend_domain, range=[STATUS_COLOURS[s] for s in statuses]),
            ),
            shape=alt.Shape(
                "status:N",
                title="Status",
                legend=None,  # the page's own key says it in words, and wraps on a phone
                scale=alt.Scale(domain=legend_domain, range=[STATUS_SHAPES[s] for s in statuses]),
            ),
            tooltip=values_tooltip,
        )
        .transform_filter("datum.value != null"),
    ]
    if "changes" in parts:
        ch = alt.Chart(alt.Data(name="changes"))
        change_tooltip = [
            alt.Tooltip("n:N", title="Change"),
            alt.Tooltip("date:T", title="Date"),
            alt.Tooltip("kind:N", title="Kind"),
            alt.Tooltip("title:N", title="What"),
            alt.Tooltip("description:N", title="Details"),
        ]
        layers += [
            ch.mark_rule(color=CHANGE_COLOUR, strokeDash=[4, 2], strokeWidth=1.5).encode(
                x=alt.X("date:T", scale=x_scale), tooltip=change_tooltip
            ),
            ch.mark_text(color=CHANGE_COLOUR, fontWeight="bold", fontSize=12, dy=10, align="center").encode(
                x=alt.X("date:T", scale=x_scale), y=alt.Y("top:Q", scale=y_scale), text="n:N", tooltip=change_tooltip
            ),
        ]
    if "feedback" in parts:
        layers.append(
            alt.Chart(alt.Data(name="feedback"))
            .mark_point(shape="circle", size=320, filled=False, strokeWidth=2, color=CHANGE_COLOUR)
            .encode(
                x=alt.X("start:T", scale=x_scale),
                y=alt.Y("y:Q", scale=y_scale),
                tooltip=[alt.Tooltip("period:N", title="Open feedback on")],
            )
        )
    chart = (
        alt.layer(*layers)
        .properties(
            width="container",
            height=320,
            autosize=alt.AutoSizeParams(type="fit-x", contains="padding"),
        )
        .configure(font="system-ui, -apple-system, Segoe UI, Roboto, sans-serif")
        .configure_axis(labelColor=MUTED, titleColor=INK, gridColor="#e5e9ef", labelFontSize=12, titleFontSize=12)
        .configure_legend(orient="bottom", labelColor=INK, titleColor=INK, labelFontSize=12)
        .configure_view(stroke=None)
    )
    return json.dumps(chart.to_dict(validate=validate))


def _fan_rows(outlook: Any, unit: str, currency: str) -> list[dict[str, Any]]:
    """The fan: from the last closed value (zero width) to each forecast point, mean and both intervals."""
    forecast = getattr(outlook, "forecast", None)
    if forecast is None or not forecast.points:
        return []
    last = next((h for h in reversed(outlook.history) if h.value is not None), None)
    rows: list[dict[str, Any]] = []
    if last is not None:
        v = float(last.value)
        rows.append(
            {
                "mid": _local(_mid(last.period)),
                "period": last.period.label,
                "mean": v,
                "lower_80": v,
                "upper_80": v,
                "lower_95": v,
                "upper_95": v,
                "anchor": True,
            }
        )
    for p in forecast.points:
        what = (
            "end of the current period"
            if p.reason == "current_period"
            else f"milestone of {date_text(p.milestone_date)}"
        )
        rows.append(
            {
                "mid": _local(_mid(p.period)),
                "period": f"{p.period.label} ({what})",
                "mean": p.mean,
                "lower_80": p.lower_80,
                "upper_80": p.upper_80,
                "lower_95": p.lower_95,
                "upper_95": p.upper_95,
                "anchor": False,
                "mean_text": value_text(_d(p.mean), unit, currency),
                "interval_80_text": f"{value_text(_d(p.lower_80), unit, currency)} to "
                f"{value_text(_d(p.upper_80), unit, currency)}",
                "interval_95_text": f"{value_text(_d(p.lower_95), unit, currency)} to "
                f"{value_text(_d(p.upper_95), unit, currency)}",
                "target_text": value_text(p.target, unit, currency),
                "probability_text": f"{p.probability_meeting * 100:.0f} %",
                "method": forecast.method_name,
            }
        )
    return rows


def _d(x: float) -> Decimal:
    return Decimal(repr(x))


def kpi_chart_summary(series: Any) -> str:
    """The chart in words (its text alternative): range, latest value and status, how often the target was met."""
    kpi = series.kpi
    unit, currency = kpi.unit, series.engagement.currency
    points = series.points
    if not points:
        return f"{kpi.name}: no periods yet."
    with_data = [p for p in points if p.result.value is not None]
    head = f"{kpi.name} per {kpi.period}, {points[0].period.label} to {points[-1].period.label}"
    if not with_data:
        return f"{head}: no values recorded yet."
    latest = with_data[-1]
    reached = sum(1 for p in with_data if p.result.status in {"met", "exceeded"})
    text = (
        f"{head}. Latest value {value_text(latest.result.value, unit, currency)} in {latest.period.label}, "
        f"target {value_text(latest.result.target, unit, currency)}: {STATUS_LABELS[latest.result.status].lower()}. "
        f"The target was met or exceeded in {reached} of {len(with_data)} periods with data."
    )
    if series.changes:
        text += f" {len(series.changes)} business change{'s' if len(series.changes) != 1 else ''} marked."
    return text
