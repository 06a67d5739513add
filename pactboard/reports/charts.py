"""The report's charts: one Vega-Lite spec each (Altair), drawn by vega-embed on the web page and as SVG in the PDF.

Both formats take the very same spec from ``report_charts(data)``; only the renderer differs
(``core.vega.chart_svg`` for the PDF). The specs read the report's data dict, so an archived report
draws the charts it was made with. Status is shown by colour, shape and words, never colour alone.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import altair as alt

from pactboard.core.formatting import value_text
from pactboard.core.vega import chart_svg

STATUS_COLOURS = {
    "Exceeded": "#1d4ed8",
    "Met": "#166534",
    "At risk": "#a15c00",
    "Missed": "#b3261e",
    "No data": "#4a5565",
}
STATUS_SHAPES = {
    "Exceeded": "triangle-up",
    "Met": "circle",
    "At risk": "diamond",
    "Missed": "square",
    "No data": "cross",
}
STATUS_TEXT = {"exceeded": "Exceeded", "met": "Met", "at_risk": "At risk", "missed": "Missed", "no_data": "No data"}


@dataclass(frozen=True)
class ReportChart:
    id: str
    title: str
    spec: dict[str, Any]


def _n(text: str | None) -> float | None:
    return None if text is None else float(text)


@functools.lru_cache(maxsize=1)
def _attainment_layout() -> str:
    colours = alt.Scale(domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values()))
    bars = (
        alt.Chart(alt.Data(name="rows"))
        .mark_bar(height={"band": 0.7})
        .encode(
            y=alt.Y("name:N", sort=None, title=None, axis=alt.Axis(labelLimit=220)),
            x=alt.X(
                "attainment:Q",
                title="Attainment (% of target, capped)",
                scale=alt.Scale(domainMin=0),
                axis=alt.Axis(tickCount=6),
            ),
            color=alt.Color("status:N", scale=colours, legend=alt.Legend(title="Status", orient="bottom")),
            tooltip=[
                alt.Tooltip("name:N", title="KPI"),
                alt.Tooltip("value_text:N", title="Value"),
                alt.Tooltip("target_text:N", title="Target"),
                alt.Tooltip("status:N", title="Status"),
            ],
        )
    )
    target = alt.Chart(alt.Data(values=[{"x": 100}])).mark_rule(color="#1b2430", strokeDash=[4, 3]).encode(x="x:Q")
    chart = (bars + target).properties(width="container").configure_view(stroke=None)
    return json.dumps(chart.to_dict())


@functools.lru_cache(maxsize=1)
def _history_layout() -> str:
    colours = alt.Scale(domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values()))
    shapes = alt.Scale(domain=list(STATUS_SHAPES), range=list(STATUS_SHAPES.values()))
    base = alt.Chart(alt.Data(name="points")).encode(
        x=alt.X("period:O", title=None, sort=None, axis=alt.Axis(labelAngle=0))
    )
    target = base.mark_line(color="#1b2430", strokeDash=[4, 3], interpolate="step-after").encode(
        y=alt.Y("target:Q", title=None, scale=alt.Scale(zero=False))
    )
    line = base.mark_line(color="#4a5565").encode(y=alt.Y("value:Q", scale=alt.Scale(zero=False)))
    points = base.mark_point(filled=True, size=70).encode(
        y="value:Q",
        color=alt.Color("status:N", scale=colours, legend=None),
        shape=alt.Shape("status:N", scale=shapes, legend=None),
        tooltip=[
            alt.Tooltip("period:N", title="Period"),
            alt.Tooltip("value_text:N", title="Value"),
            alt.Tooltip("target_text:N", title="Target"),
            alt.Tooltip("status:N", title="Status"),
        ],
    )
    chart = (target + line + points).properties(width="container", height=140).configure_view(stroke=None)
    return json.dumps(chart.to_dict())


def attainment_chart(data: dict[str, Any]) -> dict[str, Any] | None:
    """Each KPI's capped attainment against 100 %, coloured by status (None when no KPI has data)."""
    rows = [
        {
            "name": k["name"],
            "attainment": float(k["attainment"]) * 100,
            "status": k["status_text"],
            "value_text": k["value_text"],
            "target_text": k["target_text"],
        }
        for k in data["kpis"]
        if k["attainment"] is not None
    ]
    if not rows:
        return None
    spec: dict[str, Any] = json.loads(_attainment_layout())
    spec["datasets"] = {"rows": rows}
    spec["height"] = 26 * len(rows)
    spec["description"] = "Attainment per KPI: " + "; ".join(
        f"{r['name']} {r['value_text']} against {r['target_text']} ({r['status']})" for r in rows
    )
    return spec


def history_chart(kpi: dict[str, Any], *, currency: str) -> dict[str, Any]:
    """One KPI's last periods: values marked by status, and the target in force as a dashed step."""
    points = [
        {
            "period": h["period"],
            "value": _n(h["value"]),
            "target": _n(h["target"]),
            "status": STATUS_TEXT[h["status"]],
            "value_text": value_text(h["value"], unit=kpi["unit"], currency=currency),
            "target_text": value_text(h["target"], unit=kpi["unit"], currency=currency),
        }
        for h in kpi["history"]
    ]
    spec: dict[str, Any] = json.loads(_history_layout())
    spec["datasets"] = {"points": points}
    spec["description"] = f"{kpi['name']} over the last {len(points)} periods: " + "; ".join(
        f"{p['period']} {p['value_text']} (target {p['target_text']})" for p in points
    )
    return spec


def report_charts(data: dict[str, Any]) -> list[ReportChart]:
    """Every chart of a report, in page order: attainment, then each KPI's history."""
    charts: list[ReportChart] = []
    attainment = attainment_chart(data)
    if attainment is not None:
        charts.append(ReportChart("chart-attainment", "Attainment by KPI", attainment))
    currency = data["engagement"]["currency"]
    for k in data["kpis"]:
        charts.append(ReportChart(f"chart-{k['code']}", f"{k['name']}", history_chart(k, currency=currency)))
    return charts


def report_chart_svgs(data: dict[str, Any], *, width: int = 640) -> list[tuple[ReportChart, str]]:
    """The same charts as SVG, for the PDF."""
    return [(c, chart_svg(c.spec, width=width)) for c in report_charts(data)]
