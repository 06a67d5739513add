"""One chart definition: a Vega-Lite spec for the browser, SVG from the same spec for PDFs."""

from __future__ import annotations

import os
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from pactboard.dashboards import charts, selectors
from pactboard.dashboards.charts import number_text, sparkline, value_text
from pactboard.engagements import services as engagement_services
from tests.conftest import World


@pytest.mark.parametrize(
    ("value", "unit", "currency", "expected"),
    [
        (Decimal("76.200000"), "%", "", "76.2 %"),
        (Decimal("312"), "seconds", "", "312 s"),
        (Decimal("4.256"), "currency", "EUR", "4.26 EUR"),
        (Decimal("12345.5"), "count", "", "12,345.5"),
        (Decimal("42"), "items/hour", "", "42 items/hour"),
        (Decimal("-0.001"), "score", "", "0"),
        (None, "%", "", "—"),
    ],
)
def test_value_text(value, unit, currency, expected):
    assert value_text(value, unit, currency) == expected


def test_number_text_keeps_small_values_exact_up_to_the_places():
    assert number_text(Decimal("0.125"), places=2) == "0.12"  # half-even, like the Decimal context
    assert number_text(Decimal("100.000000")) == "100"


def test_sparkline_breaks_at_missing_periods_and_describes_itself():
    line = sparkline(
        [Decimal(1), Decimal(3), None, Decimal(2)], target=Decimal(2), labels=["a", "b", "c", "d"], unit="%", width=100
    )
    assert len(line.segments) == 2
    first = [tuple(map(float, p.split(","))) for p in line.segments[0].split()]
    # Highest value at the top (smallest y), the target half-way between 1 and 3.
    assert first[1][1] < line.target_y < first[0][1]  # type: ignore[operator]
    assert line.last == tuple(map(float, line.segments[1].split(",")))
    assert line.label == "Last 4 periods. a: 1 %, b: 3 %, d: 2 %."
    empty = sparkline([None, None], target=Decimal(5))
    assert not empty.has_data
    assert empty.segments == ()


@pytest.mark.django_db
def test_kpi_chart_renders_to_svg_with_its_annotations(world: World, build_engagement):
    engagement = build_engagement(1, 12)
    engagement_services.business_change_record(
        actor=world.client_manager, engagement=engagement, date=date(2024, 6, 1), kind="economic", title="VAT rise"
    )
    series = selectors.kpi_series(membership=world.client_manager, engagement=engagement, kpi_code="kpi_00")
    spec = charts.kpi_chart(series, validate=True)  # against the Vega-Lite schema
    assert spec == charts.kpi_chart(series)
    assert spec["width"] == "container"
    assert spec["description"] == charts.kpi_chart_summary(series)
    svg = charts.chart_svg(spec)
    assert svg.startswith("<svg")
    assert 'width="' in svg
    assert "Baseline 70 % (2023-Q4)" in svg
    assert "aria-label" in svg
    assert "Latest value" in svg
    # One point per period with data; each point's status colour is one of the status colours.
    colours = set(re.findall(r'fill="(#[0-9a-f]{6})"', svg))
    assert {charts.STATUS_COLOURS["met"], charts.STATUS_COLOURS["missed"]} <= colours


@pytest.mark.django_db
def test_kpi_chart_summary_counts_periods_on_target(world: World, build_engagement):
    engagement = build_engagement(1, 4)
    series = selectors.kpi_series(membership=world.client_manager, engagement=engagement, kpi_code="kpi_00")
    # kpi_00 (higher is better, target 80): 70, 77, 84, 91 (tests/dashboards/conftest.value_for) -> 2 of 4.
    assert "met or exceeded in 2 of 4 periods with data" in charts.kpi_chart_summary(series)


def test_portfolio_chart_is_a_spec_with_one_bar_per_scored_engagement():
    class Row:
        def __init__(self, name: str, score: Decimal | None) -> None:
            self.engagement = type("E", (), {"name": name})()
            self.counterparty = type("O", (), {"name": "P"})()
            self.status_score, self.score, self.period, self.missed, self.at_risk = score, score, None, 0, 0

    spec = charts.portfolio_chart([Row("A", Decimal("50")), Row("B", None)], validate=True)  # type: ignore[list-item]
    assert [v["engagement"] for v in spec["datasets"]["rows"]] == ["A"]
    assert charts.chart_svg(spec).startswith("<svg")


def test_vega_bundle_is_generated_once(settings, tmp_path: Path):
    settings.BASE_DIR = tmp_path
    path = charts.vega_bundle_ensure()
    assert path == tmp_path / "static" / "vendor" / "vega-embed.js"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("/* vega-embed ")
    assert "window.vegaEmbed" in text
    stamp = path.stat().st_mtime_ns
    os.utime(path, ns=(stamp - 10**9, stamp - 10**9))
    assert charts.vega_bundle_ensure() == path
    assert path.stat().st_mtime_ns == stamp - 10**9  # up to date: not written again
