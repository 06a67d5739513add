"""The portfolio's bar chart of normalised scores."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

import altair as alt

from pactboard.core import formatting
from pactboard.core.formatting import number_text
from pactboard.dashboards.charts.common import INK, _f


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
        f"{d['engagement']} {number_text(r.status_score, places=formatting.SCORE_PLACES)}"
        for d, r in zip(data, (r for r in rows if r.status_score is not None), strict=True)
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
