"""Properties of status, attainment and scores that must hold for every input."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from pactboard.scoring import (
    DIRECTIONS,
    Direction,
    KpiTerms,
    Status,
    is_at_or_beyond,
    kpi_attainment,
    kpi_status,
    scorecard_compute,
)

D = Decimal
RANK: dict[Status, int] = {"exceeded": 0, "met": 1, "at_risk": 2, "missed": 3}  # lower is better
LAST_DAY = date(2026, 10, 31)

numbers = st.decimals(min_value=-10_000, max_value=10_000, places=2, allow_nan=False, allow_infinity=False)
gaps = st.decimals(min_value=D("0.01"), max_value=1_000, places=2)
directions = st.sampled_from(DIRECTIONS)
caps = st.decimals(min_value=1, max_value=3, places=2)


@st.composite
def levels(draw: st.DrawFn) -> tuple[Direction, Decimal, Decimal | None, Decimal | None]:
    """A direction with a consistent target, amber and stretch (either threshold may be absent)."""
    direction = draw(directions)
    target = draw(numbers)
    sign = 1 if direction == "higher" else -1
    amber = draw(st.none() | gaps.map(lambda g: target - sign * g))
    stretch = draw(st.none() | gaps.map(lambda g: target + sign * g))
    return direction, target, amber, stretch


@st.composite
def kpi_terms(draw: st.DrawFn, code: str) -> KpiTerms:
    direction, target, amber, stretch = draw(levels())
    weight = draw(st.decimals(min_value=D("0.1"), max_value=100, places=1))
    return KpiTerms(
        code=code, direction=direction, target=target, amber=amber, stretch=stretch, weight=weight, max_cap=draw(caps)
    )


@st.composite
def scorecard_inputs(draw: st.DrawFn) -> tuple[list[KpiTerms], dict[str, Decimal | None]]:
    n = draw(st.integers(min_value=1, max_value=6))
    terms = [draw(kpi_terms(f"K{i}")) for i in range(n)]
    values = {t.code: draw(st.none() | numbers) for t in terms}
    return terms, values


@given(levels(), numbers, numbers)
def test_status_is_monotone_in_the_value(
    lv: tuple[Direction, Decimal, Decimal | None, Decimal | None], a: Decimal, b: Decimal
) -> None:
    direction, target, amber, stretch = lv
    worse, better = sorted([a, b]) if direction == "higher" else sorted([a, b], reverse=True)
    s_worse = kpi_status(direction=direction, value=worse, target=target, amber=amber, stretch=stretch)
    s_better = kpi_status(direction=direction, value=better, target=target, amber=amber, stretch=stretch)
    assert RANK[s_better] <= RANK[s_worse]


@given(directions, numbers, numbers, numbers, caps)
def test_attainment_is_monotone_and_bounded(
    direction: Direction, target: Decimal, a: Decimal, b: Decimal, cap: Decimal
) -> None:
    worse, better = sorted([a, b]) if direction == "higher" else sorted([a, b], reverse=True)
    at_worse = kpi_attainment(direction=direction, value=worse, target=target, cap=cap)
    at_better = kpi_attainment(direction=direction, value=better, target=target, cap=cap)
    assert at_worse is not None
    assert at_better is not None
    assert D(0) <= at_worse <= at_better <= cap


@given(levels(), numbers, caps)
def test_attainment_reaches_one_exactly_when_the_target_is_met(
    lv: tuple[Direction, Decimal, Decimal | None, Decimal | None], value: Decimal, cap: Decimal
) -> None:
    direction, target, amber, stretch = lv
    attainment = kpi_attainment(direction=direction, value=value, target=target, cap=cap)
    status = kpi_status(direction=direction, value=value, target=target, amber=amber, stretch=stretch)
    assert attainment is not None
    assert (attainment >= 1) == is_at_or_beyond(direction=direction, value=value, level=target)
    assert (attainment >= 1) == (status in ("met", "exceeded"))


@given(numbers, numbers, caps)
def test_lower_is_better_mirrors_higher_is_better(target: Decimal, value: Decimal, cap: Decimal) -> None:
    # A lower-is-better KPI scores as the higher-is-better KPI on the negated numbers.
    assert kpi_attainment(direction="lower", value=value, target=target, cap=cap) == kpi_attainment(
        direction="higher", value=-value, target=-target, cap=cap
    )
    assert kpi_status(
        direction="lower", value=value, target=target, amber=target + 1, stretch=target - 1
    ) == kpi_status(direction="higher", value=-value, target=-target, amber=-target - 1, stretch=-target + 1)


@given(scorecard_inputs())
def test_scores_are_bounded(inputs: tuple[list[KpiTerms], dict[str, Decimal | None]]) -> None:
    terms, values = inputs
    card = scorecard_compute(terms=terms, values=values, period_last_day=LAST_DAY)
    assert D(0) <= card.coverage <= D(1)
    assert sum(card.counts.values()) == len(terms)
    if card.score is None:
        assert card.status_score is None
        assert all(v is None for v in values.values())
    else:
        assert card.status_score is not None
        assert D(0) <= card.score <= 100 * max(t.max_cap for t in terms)
        assert D(0) <= card.status_score <= D(100)


@given(scorecard_inputs(), st.decimals(min_value=D("0.01"), max_value=1000, places=2))
def test_scaling_every_weight_leaves_the_scores_unchanged(
    inputs: tuple[list[KpiTerms], dict[str, Decimal | None]], factor: Decimal
) -> None:
    terms, values = inputs
    scaled = [
        KpiTerms(
            code=t.code,
            direction=t.direction,
            target=t.target,
            amber=t.amber,
            stretch=t.stretch,
            weight=t.weight * factor,
            max_cap=t.max_cap,
        )
        for t in terms
    ]
    a = scorecard_compute(terms=terms, values=values, period_last_day=LAST_DAY)
    b = scorecard_compute(terms=scaled, values=values, period_last_day=LAST_DAY)
    assert (a.score, a.status_score, a.coverage) == (b.score, b.status_score, b.coverage)


@given(scorecard_inputs(), st.randoms(use_true_random=False))
def test_order_of_the_kpis_does_not_change_the_scores(
    inputs: tuple[list[KpiTerms], dict[str, Decimal | None]], rnd: random.Random
) -> None:
    terms, values = inputs
    shuffled = list(terms)
    rnd.shuffle(shuffled)
    a = scorecard_compute(terms=terms, values=values, period_last_day=LAST_DAY)
    b = scorecard_compute(terms=shuffled, values=values, period_last_day=LAST_DAY)
    assert (a.score, a.status_score, a.coverage, dict(a.counts)) == (
        b.score,
        b.status_score,
        b.coverage,
        dict(b.counts),
    )
