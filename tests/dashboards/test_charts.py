"""One chart definition: a Vega-Lite spec for the browser, SVG from the same spec for PDFs."""

from __future__ import annotations

import os
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from pactboard.core.formatting import number_text
from pactboard.core.periods import periods_between
from pactboard.dashboards import charts, selectors
from pactboard.dashboards.charts import sparkline, value_text
from pactboard.engagements import services as engagement_services
from tests.conftest import World, make_engagement
from tests.dashboards.conftest import FIRST_MONTH, agree_kpis, push_values


@pytest.mark.parametrize(
    ("value", "unit", "currency", "expected"),
    [
        (Decimal("76.200000"), "%", "", "76.2 %"),
        (Decimal("312"), "seconds", "", "312 s"),
        # Money: symbol, grouping, the currency's two minor places (docs/formatting.md).
        (Decimal("4.256"), "currency", "EUR", "€4.26"),
        (Decimal("412500"), "currency", "EUR", "€412,500.00"),
        # A count is whole: 12345.5 rounds half up to 12346.
        (Decimal("12345.5"), "count", "", "12,346"),
        (Decimal("42"), "items/hour", "", "42 items/hour"),
        (Decimal("-0.001"), "score", "", "0"),
        (None, "%", "", "—"),
    ],
)
def test_value_text(value, unit, currency, expected):
    assert value_text(value, unit, currency) == expected


def test_number_text_keeps_small_values_exact_up_to_the_places():
    # Half up, the rule the stored values use: .125 at two places is .13 (half-even would say .12).
    assert number_text(Decimal("0.125"), places=2) == "0.13"
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
def test_kpi_chart_line_breaks_at_a_month_without_data(world: World, build_engagement):
    engagement = make_engagement(world.client_org, world.provider_org, "Gappy")
    engagement.start_date, engagement.end_date = date(2024, 1, 1), date(2026, 12, 31)
    engagement.save()
    agree_kpis(world, engagement, 1)
    months = periods_between("month", FIRST_MONTH, FIRST_MONTH.shift(4))
    # Values for Jan, Feb, Apr and May 2024; none for March.
    push_values(world.provider_manager, engagement, ["kpi_00"], months, skip={("kpi_00", "2024-03")})
    series = selectors.kpi_series(membership=world.client_manager, engagement=engagement, kpi_code="kpi_00")
    spec = charts.kpi_chart(series, validate=True)
    by_period = {row["period"]: row for row in spec["datasets"]["points"]}
    assert by_period["2024-03"]["value"] is None  # the missing month is in the data, as null
    svg = charts.chart_svg(spec)
    # The value line (stroke #1e3a8a) is one path; a gap means it starts again: two "M" (move-to) commands,
    # Jan-Feb and Apr-May, where a line drawn across March would have one.
    lines = re.findall(r'<path[^>]*d="([^"]+)"[^>]*stroke="#1e3a8a"', svg)
    assert len(lines) == 1
    assert lines[0].count("M") == 2


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
