"""The dashboards show the numbers the scorecard gives, in a constant number of queries."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db.models import Count, Max

from pactboard.core.periods import Period, periods_between
from pactboard.dashboards import selectors
from pactboard.dashboards.selectors import display_period, portfolio_sort
from pactboard.engagements import services as engagement_services
from pactboard.engagements.models import BusinessChange
from pactboard.kpis.models import AgreementVersion
from pactboard.kpis.services import MilestoneSpec
from pactboard.measurements import services as measurement_services
from pactboard.measurements.models import Measurement
from pactboard.measurements.selectors import scorecard_for_period
from tests.conftest import World, make_engagement
from tests.dashboards.conftest import FIRST_MONTH, agree_kpis, kpi_code, push_values, value_for

pytestmark = pytest.mark.django_db
NOW = datetime(2024, 10, 5, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "anchor", "expected"),
    [
        ("month", "2026-05", "2026-05"),
        ("quarter", "2026-05", "2026-Q1"),  # Q2 has not ended by 31 May
        ("quarter", "2026-06", "2026-Q2"),  # ... and has by 30 June
        ("week", "2026-05", "2026-W22"),  # 31 May 2026 is a Sunday: W22 (25-31 May) ends with the month
        ("week", "2026-04", "2026-W17"),  # 30 Apr is a Thursday: W18 runs into May, so W17
        ("month", "2026-Q2", "2026-06"),
        ("month", "2026-W05", "2026-01"),  # W05 ends on 1 Feb 2026: January has ended by then
    ],
)
def test_display_period_is_the_latest_period_of_its_kind_ended_by_the_anchor(kind, anchor, expected):
    assert display_period(kind, Period.parse(anchor)).label == expected


def test_dashboard_tiles_equal_the_scorecard_of_the_period(world: World, build_engagement):
    engagement = build_engagement(6, 14)
    for label in ("2025-02", "2024-06"):
        period = Period.parse(label)
        dashboard = selectors.engagement_dashboard(
            membership=world.client_manager, engagement=engagement, period_label=label
        )
        card = scorecard_for_period(engagement=engagement, period=period).scorecard
        assert card is not None
        assert dashboard.scorecard is not None
        assert dashboard.period == period
        assert dashboard.scorecard.score == card.score
        assert dashboard.scorecard.status_score == card.status_score
        assert dashboard.scorecard.counts == card.counts
        assert [(t.kpi.code, t.result) for t in dashboard.tiles] == [(r.code, r) for r in card.results]


def test_dashboard_defaults_to_the_latest_closed_period_and_offers_every_period(world: World, build_engagement):
    engagement = build_engagement(2, 5)
    # On 10 June 2024 May is the latest closed month and June the running one (offered, not shown).
    now = datetime(2024, 6, 10, 12, tzinfo=UTC)
    dashboard = selectors.engagement_dashboard(membership=world.client_manager, engagement=engagement, now=now)
    assert dashboard.period == Period.parse("2024-05")
    assert dashboard.periods[0] == FIRST_MONTH
    assert dashboard.periods[-1] == Period.parse("2024-06")


def test_tile_history_trend_and_sparkline_inputs(world: World, build_engagement):
    engagement = build_engagement(2, 14)
    dashboard = selectors.engagement_dashboard(
        membership=world.client_manager, engagement=engagement, period_label="2025-02"
    )
    tile = dashboard.tiles[0]  # kpi_00, higher is better
    assert [p.label for p, _ in tile.history] == [
        p.label for p in periods_between("month", Period.parse("2024-03"), Period.parse("2025-02"))
    ]
    assert [v for _, v in tile.history] == [value_for(0, j) for j in range(2, 14)]
    # docs/scoring.md: last value 2025-02 (j=13) against the mean of the three before (j=10..12).
    last, previous = value_for(0, 13), [value_for(0, j) for j in (10, 11, 12)]
    mean = sum(previous) / 3
    expected = "flat" if abs(last - mean) <= Decimal("0.8") else ("up" if last > mean else "down")
    assert tile.trend == expected
    assert tile.trend_better is (None if expected == "flat" else expected == "up")
    assert tile.updated_at is not None
    assert tile.revision_count == 1


def test_a_bad_period_label_falls_back_with_a_message(world: World, build_engagement):
    engagement = build_engagement(1, 3)
    dashboard = selectors.engagement_dashboard(
        membership=world.client_manager,
        engagement=engagement,
        period_label="2024-Q1",
        now=datetime(2024, 4, 10, 12, tzinfo=UTC),  # March 2024 is the latest closed month
    )
    assert dashboard.period == Period.parse("2024-03")
    assert "month" in dashboard.period_error


def test_dashboard_without_an_agreement(world: World):
    dashboard = selectors.engagement_dashboard(membership=world.client_manager, engagement=world.engagement)
    assert dashboard.version is None
    assert dashboard.tiles == []


def test_kpi_series_judges_each_period_by_the_target_in_force(world: World):
    engagement = make_engagement(world.client_org, world.provider_org, "Milestones")
    # kpi_00: final target 80, milestone 30 Jun 2026 at 70 (amber keeps its distance: 65).
    agree_kpis(world, engagement, 1, milestone=MilestoneSpec(date=date(2026, 6, 30), target=Decimal(70)))
    months = periods_between("month", Period.parse("2026-01"), Period.parse("2026-08"))
    push_values(world.provider_manager, engagement, ["kpi_00"], months)
    series = selectors.kpi_series(membership=world.client_manager, engagement=engagement, kpi_code="kpi_00")
    by_label = {p.period.label: p for p in series.points}
    assert by_label["2026-06"].result.target == Decimal(70)
    assert by_label["2026-06"].result.milestone_date == date(2026, 6, 30)
    assert by_label["2026-07"].result.target == Decimal(80)
    assert by_label["2026-03"].result.value == value_for(0, 2)
    assert series.points[0].period.label == "2026-01"
    assert len(series.with_data) == 8
    assert [m.target for m in series.milestones] == [Decimal(70)]


def test_kpi_series_of_an_unknown_code_is_not_found(world: World, build_engagement):
    engagement = build_engagement(1, 1)
    with pytest.raises(Exception, match="No such KPI"):
        selectors.kpi_series(membership=world.client_manager, engagement=engagement, kpi_code="nope")


def test_stamp_moves_with_values_corrections_and_business_changes(world: World, build_engagement):
    engagement = build_engagement(2, 2)
    stamp = selectors.engagement_stamp(engagement_id=engagement.pk)
    assert selectors.engagement_stamp(engagement_id=engagement.pk) == stamp
    push_values(world.provider_manager, engagement, [kpi_code(0)], [Period.parse("2024-03")])
    after_new = selectors.engagement_stamp(engagement_id=engagement.pk)
    assert after_new != stamp
    measurement_services.measurement_record(
        actor=world.provider_manager,
        engagement=engagement,
        kpi_code=kpi_code(0),
        period=Period.parse("2024-03"),
        value=Decimal("12"),
        reason="typo",
    )
    after_fix = selectors.engagement_stamp(engagement_id=engagement.pk)
    assert after_fix != after_new
    engagement_services.business_change_record(
        actor=world.client_manager, engagement=engagement, date=date(2024, 2, 1), kind="launch", title="New app"
    )
    assert selectors.engagement_stamp(engagement_id=engagement.pk) != after_fix


def test_stamp_parts_are_the_counts_and_newest_times_the_orm_reads(world: World, build_engagement):
    """The stamp's hand-written statement against the same aggregates through the ORM, one table at a time."""
    engagement = build_engagement(2, 3)
    engagement_services.business_change_record(
        actor=world.client_manager, engagement=engagement, date=date(2024, 2, 1), kind="launch", title="New app"
    )
    build_engagement(1, 2, "Other")  # another engagement's rows are not counted
    values = Measurement.objects.filter(engagement=engagement).aggregate(n=Count("id"), at=Max("updated_at"))
    changes = BusinessChange.objects.filter(engagement=engagement).aggregate(n=Count("id"), at=Max("updated_at"))
    agreed = AgreementVersion.objects.filter(engagement=engagement, status=AgreementVersion.Status.AGREED)
    versions = agreed.aggregate(n=Count("id"), newest=Max("id"))
    assert (values["n"], changes["n"], versions["n"]) == (6, 1, 1)  # 2 KPIs x 3 months; one change; one version

    state = selectors.engagement_state(engagement_id=engagement.pk)

    assert state.values_at == values["at"]
    assert state.values_at is not None
    assert state.values_at.utcoffset() is not None
    micros = [int(t.timestamp() * 1_000_000) for t in (values["at"], changes["at"])]
    assert state.text == f"6-{micros[0]}-1-{micros[1]}-{versions['newest']}-1"
    assert selectors.engagement_stamp(engagement_id=engagement.pk) == state.text


def test_values_read_gives_what_the_orm_reads_with_change_times_only_where_shown(world: World, build_engagement):
    engagement = build_engagement(3, 4)
    build_engagement(3, 4, "Other")  # the same codes and periods in another engagement are not read
    shown = Period.parse("2024-03")

    read = selectors.values_read(
        engagement_id=engagement.pk, codes=[kpi_code(0), kpi_code(2)], shown={("month", shown.start)}
    )

    rows = Measurement.objects.filter(engagement=engagement, kpi_code__in=[kpi_code(0), kpi_code(2)])
    expected = {(m.kpi_code, m.period_kind, m.period_start): m for m in rows}
    assert len(expected) == 8  # 2 KPIs x 4 months
    assert set(read) == set(expected)
    for key, m in expected.items():
        got = read[key]
        assert (got.value, got.revision_count, got.source) == (m.value, m.revision_count, m.source)
        assert str(got.value) == str(m.value)  # the same Decimal, exponent included
        assert got.updated_at == (m.updated_at if key[2] == shown.start else None), key
    assert selectors.values_read(engagement_id=engagement.pk, codes=[], shown=set()) == {}


def test_portfolio_rows_equal_the_latest_scorecards_and_respect_tenancy(world: World, build_engagement):
    a = build_engagement(3, 6, "Alpha care")
    b = build_engagement(2, 9, "Beta desk")
    # On 5 October 2024 September is the latest closed month: Alpha's values stop in June (all "no data").
    client_view = selectors.portfolio(membership=world.client_manager, now=NOW)
    rows = {r.engagement.name: r for r in client_view.rows}
    assert set(rows) == {"Acme support", "Alpha care", "Beta desk"}
    assert client_view.side == "client"
    assert rows["Alpha care"].counterparty == world.provider_org
    for engagement, label in ((a, "2024-09"), (b, "2024-09")):
        row = rows[engagement.name]
        card = scorecard_for_period(engagement=engagement, period=Period.parse(label)).scorecard
        assert row.period == Period.parse(label)
        assert card is not None
        assert row.status_score == card.status_score
        assert row.score == card.score
        assert row.missed == card.counts["missed"]
        assert row.last_arrival is not None
    assert rows["Alpha care"].no_data == 3
    assert rows["Acme support"].scorecard is None  # no agreement yet

    provider_view = selectors.portfolio(membership=world.provider_manager, now=NOW)
    assert provider_view.side == "provider"
    assert {r.engagement.name: r.status_score for r in provider_view.rows} == {
        n: r.status_score for n, r in rows.items()
    }
    assert {r.counterparty for r in provider_view.rows} == {world.client_org}
    assert selectors.portfolio(membership=world.outsider).rows[0].engagement == world.other_engagement
    assert len(selectors.portfolio(membership=world.outsider).rows) == 1


def test_portfolio_filters_and_sorts(world: World, build_engagement):
    build_engagement(3, 6, "Alpha care")
    build_engagement(2, 9, "Beta desk")
    portfolio = functools.partial(selectors.portfolio, now=NOW)
    assert [r.engagement.name for r in portfolio(membership=world.client_manager, q="beta").rows] == ["Beta desk"]
    by_provider = portfolio(membership=world.client_manager, q="helpline")
    assert len(by_provider.rows) == 3
    attention = portfolio(membership=world.client_manager, attention=True).rows
    assert attention
    assert all(r.missed or r.at_risk for r in attention)
    rows = portfolio(membership=world.client_manager, sort="-status_score").rows
    scored = [r.status_score for r in rows if r.status_score is not None]
    assert scored == sorted(scored, reverse=True)
    assert rows[-1].status_score is None  # without data: last, whatever the direction
    assert portfolio_sort(rows, "bogus")[0].engagement.name == "Acme support"


def test_portfolio_trend_compares_the_status_score_with_the_three_periods_before(world: World, build_engagement):
    engagement = build_engagement(2, 6)
    now = datetime(2024, 7, 5, 12, tzinfo=UTC)  # June 2024, the last month with values, is the latest closed one
    row = next(
        r for r in selectors.portfolio(membership=world.client_manager, now=now).rows if r.engagement == engagement
    )
    scores = [
        scorecard_for_period(engagement=engagement, period=Period.parse(f"2024-0{m}")).scorecard.status_score  # type: ignore[union-attr]
        for m in (3, 4, 5, 6)
    ]
    last, mean = scores[-1], sum(scores[:3]) / 3  # type: ignore[operator, arg-type]
    expected = "flat" if abs(last - mean) <= 1 else ("up" if last > mean else "down")  # type: ignore[operator]
    assert row.trend == expected
