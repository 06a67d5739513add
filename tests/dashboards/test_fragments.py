"""Dashboard fragments built in Python (dashboards/fragments.py): every value escaped, the words the templates had."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from pactboard.dashboards import charts, selectors
from pactboard.dashboards.fragments import TileView, portfolio_cells_html, tiles_html
from pactboard.dashboards.outlooks import tile_forecast
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

HOSTILE = """<script>alert("x")</script> & 'quoted'"""
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;quoted&#x27;"
NOW = datetime(2024, 4, 15, 12, 0, tzinfo=ZoneInfo("UTC"))


def _views(world: World, engagement) -> tuple[selectors.EngagementDashboard, list[TileView]]:
    dashboard = selectors.engagement_dashboard(membership=world.client_manager, engagement=engagement, now=NOW)
    views = [
        TileView(
            tile=t,
            spark=charts.sparkline([v for _, v in t.history], target=t.result.target),
            forecast=None,
            url=f"/k/{t.kpi.code}/",
        )
        for t in dashboard.tiles
    ]
    return dashboard, views


def _li(html: str, code: str) -> str:
    match = re.search(rf'<li [^>]*data-kpi="{code}".*?</li>', html, flags=re.S)
    assert match is not None, code
    return match.group(0)


def test_every_value_from_the_data_is_escaped(world: World, build_engagement):
    engagement = build_engagement(2, 3)
    _, views = _views(world, engagement)
    views[0].tile.kpi.name = HOSTILE  # agreed versions are frozen in the database: the name is set in memory
    html = tiles_html(
        views,
        currency="EUR",
        zone="Europe/Berlin",
        score_kind="month",
        feedback_open={},
        chronic={"kpi_00": HOSTILE},
    )
    tile = _li(html, "kpi_00")
    assert f">{ESCAPED}</a></h3>" in tile
    assert f'title="Missed in a row since {ESCAPED}, until met again"' in tile
    assert "<script>" not in html


def test_feedback_marker_counts_in_words_and_the_score_note(world: World, build_engagement):
    engagement = build_engagement(2, 3)
    _, views = _views(world, engagement)
    views[1] = dataclasses.replace(views[1], tile=dataclasses.replace(views[1].tile, in_score=False))
    html = tiles_html(
        views,
        currency="EUR",
        zone="Europe/Berlin",
        score_kind="month",
        feedback_open={"kpi_00": 1, "kpi_01": 2},
        chronic={},
    )
    assert 'title="1 value with open feedback">● 1</a>' in _li(html, "kpi_00")
    assert 'title="2 values with open feedback">● 2</a>' in _li(html, "kpi_01")
    assert "not in the month's score" not in _li(html, "kpi_00")
    assert _li(html, "kpi_01").endswith(" · not in the month's score</p></li>")
    assert html.count('data-testid="kpi-tile"') == 2


def test_times_are_shown_in_the_engagement_zone(world: World, build_engagement):
    engagement = build_engagement(1, 3)
    _, views = _views(world, engagement)
    # 23:30 UTC on 31 January is 00:30 on 1 February in Berlin (CET, UTC+1).
    at = datetime(2024, 1, 31, 23, 30, tzinfo=ZoneInfo("UTC"))
    tile = dataclasses.replace(views[0].tile, updated_at=at, revision_count=3)
    with timezone.override("UTC"):  # the machine-readable instant is in the request's zone, as |date:'c' gave it
        html = tiles_html(
            [dataclasses.replace(views[0], tile=tile)],
            currency="EUR",
            zone="Europe/Berlin",
            score_kind="month",
            feedback_open={},
            chronic={},
        )
    assert 'Changed <time datetime="2024-01-31T23:30:00+00:00">' in html
    assert ">1 Feb 2024, 00:30 CET</time> · 3 revisions</p>" in html


def test_the_dashboard_page_serves_the_tiles(world: World, build_engagement):
    engagement = build_engagement(2, 3)
    page = client_for(world.provider_manager).get(f"/engagements/{engagement.pk}/dashboard/").text
    assert page.count('data-testid="kpi-tile"') == 2
    assert f'<h3><a href="/engagements/{engagement.pk}/kpis/kpi_01/">KPI 01</a></h3>' in _li(page, "kpi_01")


def test_portfolio_cells_escape_names_and_say_status_and_kpis_in_words(world: World, build_engagement):
    engagement = build_engagement(1, 3)
    data = selectors.portfolio(membership=world.client_manager, now=NOW)
    row = next(r for r in data.rows if r.engagement.pk == engagement.pk)
    row.engagement.name = HOSTILE
    row.counterparty.name = HOSTILE
    row.engagement.status = "ended"

    html = portfolio_cells_html(row, data, url=f"/engagements/{engagement.pk}/dashboard/")

    assert f'<a href="/engagements/{engagement.pk}/dashboard/">{ESCAPED}</a>' in html
    assert f'<td data-label="Provider">{ESCAPED}</td>' in html
    assert '<span class="badge status-ended">Ended</span>' in html
    assert "2024-03 · 1 KPI</span>" in html  # one KPI, no plural; the latest closed month by NOW
    assert "<script>" not in html
    two = dataclasses.replace(row, kpi_count=2)
    assert "2024-03 · 2 KPIs</span>" in portfolio_cells_html(two, data, url="/x/")


def test_words_next_to_each_other_keep_their_space(world: World, build_engagement):
    """Inline parts the template wrote on separate lines read as separate words ("Improving Forecast …")."""
    engagement = build_engagement(1, 6)
    dashboard = selectors.engagement_dashboard(
        membership=world.client_manager, engagement=engagement, now=datetime(2024, 7, 15, 12, tzinfo=ZoneInfo("UTC"))
    )
    tile = dashboard.tiles[0]
    forecast = tile_forecast(tile.outlook, currency="EUR")
    assert forecast is not None  # six closed months: the mean method forecasts July
    view = TileView(
        tile=tile, spark=charts.sparkline([v for _, v in tile.history], target=None), forecast=forecast, url="/k/"
    )
    html = tiles_html(
        [view],
        currency="EUR",
        zone="UTC",
        score_kind="month",
        feedback_open={"kpi_00": 1},
        chronic={"kpi_00": "2024-05"},
    )
    assert f'{tile.outlook.word_label}</a> <span data-testid="tile-forecast">Forecast 2024-07:' in html
    assert '<span class="tile-period">2024-06</span> <a class="feedback-marker open"' in html
    assert '● 1</a> <span class="chronic-flag"' in html
