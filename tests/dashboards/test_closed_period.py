"""Pages default to the latest closed period; a running one is shown only when chosen, marked "in progress".

"Now" is fixed at 2024-07-10 12:00 UTC (14:00 in Berlin): June 2024 is the latest closed month,
July 2024 is running. Values are pushed for January to June, then one for the running July.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from pactboard.core.periods import Period, periods_between
from pactboard.dashboards import selectors
from pactboard.measurements import services as measurement_services
from pactboard.measurements.selectors import scorecard_for_period
from tests.conftest import World, client_for, make_engagement
from tests.dashboards.conftest import FIRST_MONTH, agree_kpis, kpi_code, push_values

pytestmark = pytest.mark.django_db
NOW = datetime(2024, 7, 10, 12, 0, tzinfo=UTC)
JUNE, JULY = Period.parse("2024-06"), Period.parse("2024-07")


@pytest.fixture
def running(world: World):
    engagement = make_engagement(world.client_org, world.provider_org, "Running")
    engagement.start_date, engagement.end_date = date(2024, 1, 1), date(2026, 12, 31)
    engagement.save()
    agree_kpis(world, engagement, 2)
    push_values(
        world.provider_manager, engagement, [kpi_code(0), kpi_code(1)], periods_between("month", FIRST_MONTH, JUNE)
    )
    # The first value of the running month: kpi_00 is higher-is-better with target 80 (conftest), so 99 is
    # "exceeded"; June's kpi_00 value is 70 + (5*7 + 0) % 25 = 80 ("met"), kpi_01's 100 - (70 + 38 % 25) = 17.
    measurement_services.measurement_record(
        actor=world.provider_manager,
        engagement=engagement,
        kpi_code=kpi_code(0),
        period=JULY,
        value=Decimal(99),
        now=NOW,
    )
    return engagement


def test_dashboard_defaults_to_the_closed_month_not_the_running_one(world: World, running):
    dashboard = selectors.engagement_dashboard(membership=world.client_manager, engagement=running, now=NOW)
    assert dashboard.period == JUNE
    assert dashboard.in_progress is False
    card = scorecard_for_period(engagement=running, period=JUNE).scorecard
    assert card is not None
    assert dashboard.scorecard is not None
    assert dashboard.scorecard.counts == card.counts
    # The running month can be chosen (it is offered), later months cannot.
    assert dashboard.periods[-1] == JULY


def test_the_running_month_is_shown_when_chosen_and_marked_in_progress(world: World, running):
    dashboard = selectors.engagement_dashboard(
        membership=world.client_manager, engagement=running, period_label="2024-07", now=NOW
    )
    assert dashboard.period == JULY
    assert dashboard.in_progress is True


def test_a_period_that_has_not_started_is_not_shown(world: World, running):
    dashboard = selectors.engagement_dashboard(
        membership=world.client_manager, engagement=running, period_label="2024-09", now=NOW
    )
    assert dashboard.period == JUNE
    assert "2024-09 has not started" in dashboard.period_error


def test_portfolio_shows_the_closed_month(world: World, running):
    row = next(r for r in selectors.portfolio(membership=world.client_manager, now=NOW).rows if r.engagement == running)
    assert row.period == JUNE
    card = scorecard_for_period(engagement=running, period=JUNE).scorecard
    assert card is not None
    assert row.status_score == card.status_score


def test_kpi_page_latest_is_the_closed_month(world: World, running):
    series = selectors.kpi_series(membership=world.client_manager, engagement=running, kpi_code=kpi_code(0), now=NOW)
    assert series.latest is not None
    assert series.latest.period == JUNE
    assert series.points[-1].period == JULY
    assert series.points[-1].in_progress


def test_the_page_marks_a_chosen_running_month_in_progress(world: World, running, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    c = client_for(world.client_manager)
    default = c.get(f"/engagements/{running.pk}/dashboard/").text
    assert 'data-testid="in-progress"' not in default
    assert "Weighted score, 2024-06<" in default
    chosen = c.get(f"/engagements/{running.pk}/dashboard/?period=2024-07").text
    assert 'data-testid="in-progress"' in chosen
    assert "Weighted score, 2024-07 (in progress)" in chosen


def test_the_scorecard_page_marks_a_running_period_in_progress(world: World, running, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    c = client_for(world.client_manager)
    url = f"/engagements/{running.pk}/scorecard/"
    assert 'data-testid="in-progress"' not in c.get(url).text  # default: the latest complete month, 2024-06
    assert 'data-testid="in-progress"' in c.get(url, {"period": "2024-07"}).text
