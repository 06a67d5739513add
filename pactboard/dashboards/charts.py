"""Charts: one definition for the web and for PDFs.

A chart is a Vega-Lite spec built with Altair. The browser renders it with vega-embed (a
self-contained bundle made by ``vl_convert.javascript_bundle()``, served as a static file); PDFs
and e-mails get SVG from the same spec through ``chart_svg``. Sparklines are small enough to be
drawn here as plain SVG geometry, which the web page and a PDF both embed as is.
Charts show numbers as floats: they are pictures of the Decimal values, never used to compute.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import altair as alt
import vl_convert as vlc
from django.conf import settings
from django.utils.html import escape

from pactboard.core.periods import Period

logger = logging.getLogger(__name__)

VEGA_LITE_VERSION = "6.4"  # the schema Altair writes (alt.SCHEMA_VERSION v6.4.x)

# Status: colour AND a symbol AND words, never colour alone. Colours keep 3:1 against white (graphics).
STATUS_LABELS: dict[str, str] = {
    "exceeded": "Exceeded",
    "met": "Met",
    "at_risk": "At risk",
    "missed": "Missed",
    "no_data": "No data",
}
STATUS_ICONS: dict[str, str] = {"exceeded": "★", "met": "✓", "at_risk": "!", "missed": "✕", "no_data": "–"}
STATUS_COLOURS: dict[str, str] = {
    "exceeded": "#1d4ed8",
    "met": "#166534",
    "at_risk": "#a15c00",
    "missed": "#b3261e",
    "no_data": "#4a5565",
}
STATUS_SHAPES: dict[str, str] = {
    "exceeded": "triangle-up",
    "met": "circle",
    "at_risk": "diamond",
    "missed": "square",
}
CHANGE_COLOUR = "#6d28d9"
INK = "#1b2430"
MUTED = "#4a5565"

UNIT_SUFFIX: dict[str, str] = {"%": " %", "seconds": " s", "hours": " h", "count": "", "score": ""}


def number_text(value: Decimal | None, *, places: int = 2) -> str:
    """A value for people: at most ``places`` decimals, no trailing zeros, thousands separated by commas."""
    if value is None:
        return "—"
    rounded = value.quantize(Decimal(1).scaleb(-places)) if value.as_tuple().exponent < -places else value  # type: ignore[operator]
    text = f"{rounded:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def value_text(value: Decimal | None, unit: str, currency: str = "") -> str:
    """A value with its unit: ``76.2 %``, ``312 s``, ``4.2 EUR``, ``42 items/hour``."""
    if value is None:
        return "—"
    text = number_text(value)
    if unit == "currency":
        return f"{text} {currency}".rstrip()
    if unit in UNIT_SUFFIX:
        return text + UNIT_SUFFIX[unit]
    return f"{text} {unit}".rstrip()


# --- sparklines -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sparkline:
    """SVG geometry of a small line chart; ``segments`` break where a period has no data."""

    width: int
    height: int
    segments: tuple[str, ...]
    last: tuple[float, float] | None
    target_y: float | None
    label: str

    @property
    def has_data(self) -> bool:
        return self.last is not None


def sparkline(
    values: Sequence[Decimal | None],
    *,
    target: Decimal | None,
    labels: Sequence[str] = (),
    unit: str = "",
    kind: str = "period",
    width: int = 140,
    height: int = 36,
) -> Sparkline:
    """The last periods' values as polyline points, with the target as a horizontal line."""
    pad = 4.0
    numbers = [float(v) for v in values if v is not None]
    scale_of = [*numbers, float(target)] if target is not None else numbers
    described = ", ".join(
        f"{labels[i] if i < len(labels) else i + 1}: {value_text(v, unit)}"
        for i, v in enumerate(values)
        if v is not None
    )
    label = f"Last {len(values)} {kind}s. {described}." if numbers else f"No values in the last {len(values)} {kind}s."
    if not numbers:
        return Sparkline(width, height, (), None, None, label)
    lo, hi = min(scale_of), max(scale_of)
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    step = (width - 2 * pad) / max(len(values) - 1, 1)

    def y_of(v: float) -> float:
        return round(height - pad - (v - lo) / (hi - lo) * (height - 2 * pad), 1)

    segments: list[str] = []
    current: list[str] = []
    last: tuple[float, float] | None = None
    for i, v in enumerate(values):
        if v is None:
            if current:
                segments.append(" ".join(current))
            current = []
            continue
        x, y = round(pad + i * step, 1), y_of(float(v))
        current.append(f"{x},{y}")
        last = (x, y)
    if current:
        segments.append(" ".join(current))
    return Sparkline(width, height, tuple(segments), last, y_of(float(target)) if target is not None else None, label)


# --- the KPI chart --------------------------------------------------------------------------------


def _f(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _local(day: date) -> str:
    """A day as the browser's local midnight: a bare ISO date would be read as UTC midnight, which is
    the day before west of Greenwich."""
    return f"{day.isoformat()}T00:00:00"


def _mid(period: Period) -> date:
    return period.start + timedelta(days=(period.end - period.start).days // 2)


def _y_domain(numbers: Sequence[float | None]) -> tuple[float, float]:
    present = [n for n in numbers if n is not None]
    if not present:
        return (0.0, 1.0)
    lo, hi = min(present), max(present)
    pad = (hi - lo) * 0.12 or max(abs(hi) * 0.1, 1.0)
    return (lo - pad, hi + pad)


# Ticks on period boundaries, labelled the way people name the periods.
_TIME_AXIS: dict[str, dict[str, Any]] = {
    "month": {"format": "%b %Y", "tickCount": {"interval": "month", "step": 1}},
    "quarter": {"format": "%b %Y", "tickCount": {"interval": "month", "step": 3}},
    "week": {"format": "%d %b", "tickCount": {"interval": "week", "step": 1}},
}


def kpi_chart(series: Any, *, validate: bool = False, feedback: Collection[date] = ()) -> dict[str, Any]:
    """The KPI over time: values coloured and shaped by status, the target in force (it steps at milestones
    and new versions), the amber and stretch bands, the baseline, milestones and business changes.

    ``series`` is a ``dashboards.selectors.KpiSeries``; ``feedback``: period starts with an open feedback
    thread, ringed on the chart.
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
    numbers: list[float | None] = [baseline]
    for row in rows:
        numbers += [row["value"], row["target"], row["amber"], row["stretch"]]
    numbers += [m["target"] for m in milestones]
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


# Placeholders for the parts of a layout that change with the data (its scale domains).
# The x scale needs none: the target rule spans every period, from its first day to the day after.
_Y_LO, _Y_HI = -987654321.25, 987654321.75


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
    statuses = [s for s in STATUS_SHAPES]
    legend_domain = [STATUS_LABELS[s] for s in statuses]
    layers += [
        alt.Chart(data)
        .mark_line(color="#1e3a8a", strokeWidth=2)
        .encode(x=alt.X("mid:T", scale=x_scale), y=alt.Y("value:Q", scale=y_scale))
        .transform_filter("datum.value != null"),
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


# --- the portfolio chart --------------------------------------------------------------------------


def portfolio_chart(rows: Sequence[Any], *, validate: bool = False) -> dict[str, Any]:
    """Status score (0 to 100) per engagement, as horizontal bars, for comparing providers (or clients)."""
    data = [
        {
            "engagement": r.engagement.name,
            "counterparty": r.counterparty.name,
            "status_score": float(r.status_score),
            "score": _f(r.score),
            "period": r.period.label if r.period else "",
            "missed": r.missed,
            "at_risk": r.at_risk,
        }
        for r in rows
        if r.status_score is not None
    ]
    spec: dict[str, Any] = json.loads(_portfolio_chart_layout(validate=validate))
    spec["description"] = "Status score per engagement: " + "; ".join(
        f"{d['engagement']} {d['status_score']:.1f}" for d in data
    )
    spec["datasets"] = {"rows": data}
    spec["height"] = 28 * max(len(data), 1)  # a fixed height: a bar step would fight the container width
    return spec


@functools.lru_cache(maxsize=2)
def _portfolio_chart_layout(*, validate: bool) -> str:
    """The portfolio chart's layout without its data, as JSON (built once: see ``_kpi_chart_layout``)."""
    bars = (
        alt.Chart(alt.Data(name="rows"))
        .mark_bar(color="#1d4ed8", cornerRadiusEnd=3, height={"band": 0.7})
        .encode(
            y=alt.Y(
                "engagement:N",
                sort=alt.EncodingSortField(field="status_score", op="max", order="descending"),
                title=None,
                axis=alt.Axis(labelLimit=220),
            ),
            x=alt.X(
                "status_score:Q",
                title="Status score (0 to 100)",
                scale=alt.Scale(domain=[0, 100]),
                axis=alt.Axis(values=[0, 25, 50, 75, 100]),
            ),
            tooltip=[
                alt.Tooltip("engagement:N", title="Engagement"),
                alt.Tooltip("counterparty:N", title="With"),
                alt.Tooltip("period:N", title="Period"),
                alt.Tooltip("status_score:Q", title="Status score", format=".1f"),
                alt.Tooltip("score:Q", title="Score", format=".1f"),
                alt.Tooltip("missed:Q", title="KPIs missed"),
                alt.Tooltip("at_risk:Q", title="KPIs at risk"),
            ],
        )
    )
    labels = bars.mark_text(align="left", dx=4, color=INK, fontSize=12).encode(
        text=alt.Text("status_score:Q", format=".1f")
    )
    chart = (
        alt.layer(bars, labels)
        .properties(
            width="container",
        )
        .configure(font="system-ui, -apple-system, Segoe UI, Roboto, sans-serif")
        .configure_axis(labelColor=INK, titleColor=INK, gridColor="#e5e9ef", labelFontSize=12)
        .configure_view(stroke=None)
    )
    return json.dumps(chart.to_dict(validate=validate))


# --- rendering ------------------------------------------------------------------------------------


def chart_svg(spec: dict[str, Any], *, width: int = 720) -> str:
    """The chart as SVG (for PDFs and e-mails): the same spec, at a fixed width instead of the page's."""
    fixed = {**spec, "width": width}
    if isinstance(fixed.get("autosize"), dict):
        fixed["autosize"] = {**fixed["autosize"], "type": "pad"}
    svg = vlc.vegalite_to_svg(fixed, vl_version=VEGA_LITE_VERSION)
    description = spec.get("description")
    if not description:
        return svg
    # The spec's description is the chart's text alternative: the browser renderer puts it on the
    # root element, the server-side one does not, so a PDF's SVG gets it here.
    head_end = svg.index(">") + 1
    root = svg[: head_end - 1] + f' role="img" aria-label="{escape(description)}">'
    return f"{root}<title>{escape(description)}</title>{svg[head_end:]}"


VEGA_BUNDLE_NAME = "vega-embed.js"
# What the page scripts use: vegaEmbed (and vega, vegaLite) on window.
_BUNDLE_SNIPPET = "window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;"


def vega_bundle_path() -> Path:
    """Where the vega-embed bundle lives among the project's static files (static/vendor/)."""
    return Path(settings.BASE_DIR) / "static" / "vendor" / VEGA_BUNDLE_NAME


def _bundle_header() -> str:
    return (
        f"/* vega-embed {vlc.get_vega_embed_version()}, vega {vlc.get_vega_version()}, vega-lite "
        f"{VEGA_LITE_VERSION}: generated by vl_convert.javascript_bundle() (pactboard vega_bundle). */\n"
    )


def vega_bundle_ensure(*, force: bool = False) -> Path:
    """Write the vega-embed bundle if it is missing or from another vl-convert; return its path.

    ~0.9 MB, so it is generated, not committed: by the ``vega_bundle`` command, by the system
    check that ``collectstatic`` and ``runserver`` run, and at first use by the chart pages.
    """
    path = vega_bundle_path()
    header = _bundle_header()
    if not force and path.exists():
        with path.open(encoding="utf-8") as f:
            if f.readline() == header:
                return path
    path.parent.mkdir(parents=True, exist_ok=True)
    bundle = vlc.javascript_bundle(_BUNDLE_SNIPPET, vl_version=VEGA_LITE_VERSION)
    # Written beside and renamed, so that a concurrent reader never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".vega-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(header)
        f.write(bundle)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    logger.info("wrote %s", path)
    return path


_bundle_checked = False


def vega_bundle_ready() -> None:
    """Make sure the bundle exists, once per process (cheap after the first call)."""
    global _bundle_checked
    if _bundle_checked:
        return
    try:
        vega_bundle_ensure()
    except OSError as exc:
        logger.warning("cannot write the vega-embed bundle (%s): run `pactboard vega_bundle`", exc)
    _bundle_checked = True
