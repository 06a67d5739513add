"""KPI terms validation and the target in force for a period (milestones)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pactboard.core.errors import PactboardError
from pactboard.core.periods import Period
from pactboard.scoring import KpiTerms, Milestone, TargetInForce, kpi_terms_check, target_in_force

D = Decimal

# Service level (higher is better): final target 95, amber 90, stretch 98, reached in two steps.
SERVICE_LEVEL = KpiTerms(
    code="SL",
    direction="higher",
    target=D(95),
    amber=D(90),
    stretch=D(98),
    weight=D(3),
    milestones=(
        # Given out of order on purpose: the terms sort them.
        Milestone(date=date(2026, 6, 30), target=D(90), amber=D(87)),  # own amber; stretch derived: 90 + 3 = 93
        Milestone(date=date(2026, 3, 31), target=D(85)),  # amber derived: 85 - 5 = 80; stretch 85 + 3 = 88
    ),
)

FIRST = TargetInForce(target=D(85), amber=D(80), stretch=D(88), milestone_date=date(2026, 3, 31))
SECOND = TargetInForce(target=D(90), amber=D(87), stretch=D(93), milestone_date=date(2026, 6, 30))
FINAL = TargetInForce(target=D(95), amber=D(90), stretch=D(98), milestone_date=None)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("2026-01", FIRST),  # last day 31 Jan; the earliest milestone on or after it is 31 Mar
        ("2026-03", FIRST),  # last day 31 Mar = the milestone date: still the milestone
        ("2026-Q1", FIRST),  # last day 31 Mar
        # Week 14 runs Monday 30 March to Sunday 5 April: it straddles the 31 March milestone, so
        # its last day (5 April) is past it and the next milestone (30 June) applies.
        ("2026-W14", SECOND),
        ("2026-W13", FIRST),  # 23-29 March: ends before 31 March
        ("2026-04", SECOND),
        ("2026-Q2", SECOND),  # last day 30 June = the second milestone date
        ("2026-07", FINAL),  # every milestone has passed
        ("2026-Q3", FINAL),
        ("2025-12", FIRST),  # before the engagement's first milestone: the first interim target
    ],
)
def test_target_in_force(label: str, expected: TargetInForce) -> None:
    period = Period.parse(label)
    assert target_in_force(terms=SERVICE_LEVEL, period_last_day=period.last_day) == expected


def test_target_in_force_lower_is_better_keeps_the_amber_distance() -> None:
    # AHT: final target 300 s, amber 330 (30 s worse), no stretch; ramp-up target 360 until 30 June.
    terms = KpiTerms(
        code="AHT",
        direction="lower",
        target=D(300),
        amber=D(330),
        milestones=(Milestone(date=date(2026, 6, 30), target=D(360)),),
    )
    assert target_in_force(terms=terms, period_last_day=date(2026, 5, 31)) == TargetInForce(
        target=D(360), amber=D(390), stretch=None, milestone_date=date(2026, 6, 30)
    )
    assert target_in_force(terms=terms, period_last_day=date(2026, 7, 31)).target == D(300)


def test_target_in_force_without_milestones_or_amber() -> None:
    terms = KpiTerms(
        code="X", direction="higher", target=D(10), milestones=(Milestone(date=date(2026, 1, 31), target=D(5)),)
    )
    assert target_in_force(terms=terms, period_last_day=date(2026, 1, 31)) == TargetInForce(
        target=D(5), amber=None, stretch=None, milestone_date=date(2026, 1, 31)
    )
    plain = KpiTerms(code="Y", direction="lower", target=D(2), amber=D(3))
    assert target_in_force(terms=plain, period_last_day=date(2030, 1, 1)).milestone_date is None


def test_target_in_force_refuses_a_datetime() -> None:
    with pytest.raises(TypeError, match="last day"):
        target_in_force(terms=SERVICE_LEVEL, period_last_day=datetime(2026, 1, 31, tzinfo=UTC))


# --- terms validation -------------------------------------------------------------------------


def test_terms_sort_milestones() -> None:
    assert [m.date for m in SERVICE_LEVEL.milestones] == [date(2026, 3, 31), date(2026, 6, 30)]


def test_inconsistent_terms_are_refused_with_every_problem() -> None:
    with pytest.raises(PactboardError) as excinfo:
        KpiTerms(
            code="AHT",
            direction="lower",
            target=D(300),
            amber=D(280),  # must be above 300
            stretch=D(270),
            weight=D(0),
            max_cap=D("0.9"),
            milestones=(
                Milestone(date=date(2026, 3, 31), target=D(360), amber=D(350)),  # must be above 360
                Milestone(date=date(2026, 3, 31), target=D(330)),
            ),
        )
    error = excinfo.value
    assert "'AHT'" in error.message
    assert [d.location for d in error.details] == [
        "thresholds.amber",
        "weight",
        "max_cap",
        "milestones[0].amber",
        "milestones[1].date",
    ]
    assert error.details[3].message.startswith("must be above the target for a lower-is-better KPI")


def test_kpi_terms_check_accepts_consistent_terms() -> None:
    assert (
        kpi_terms_check(
            code="SL",
            direction="higher",
            target=D(95),
            amber=D(90),
            stretch=None,
            weight=D("0.5"),
            milestones=(Milestone(date=date(2026, 3, 31), target=D(85), stretch=D(86)),),
        )
        == []
    )


def test_milestone_stretch_must_be_better_than_its_target() -> None:
    problems = kpi_terms_check(
        code="SL",
        direction="higher",
        target=D(95),
        amber=None,
        stretch=None,
        weight=D(1),
        milestones=(Milestone(date=date(2026, 3, 31), target=D(85), stretch=D(85)),),
    )
    assert [(p.location, p.code) for p in problems] == [("milestones[0].stretch", "stretch_not_better_than_target")]


def test_empty_code_and_floats_are_refused() -> None:
    with pytest.raises(PactboardError) as excinfo:
        KpiTerms(code=" ", direction="higher", target=D(1))
    assert excinfo.value.details[0].location == "code"
    with pytest.raises(TypeError):
        KpiTerms(code="X", direction="higher", target=0.95)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Milestone(date=date(2026, 1, 1), target=1)  # type: ignore[arg-type]
