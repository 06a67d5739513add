"""Properties that hold for every input: one band per value, broken bands named at their edge,
settlements within their caps, one adjustment line per correction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from pactboard.incentives.calc import (
    Band,
    BandRule,
    BonusRule,
    Correction,
    EarnBack,
    Edge,
    Fixed,
    Interval,
    PercentOf,
    PerformanceCategory,
    PeriodFigures,
    Pool,
    PoolRule,
    Scheme,
    availability_compute,
    band_for,
    bands_check,
    settlement_compute,
)

D = Decimal
# Decimals built from integers (much faster to draw than st.decimals, same values).
values = st.integers(min_value=-1_000_000, max_value=1_000_000).map(lambda i: D(i).scaleb(-3))
money = st.integers(min_value=0, max_value=10_000_000).map(lambda i: D(i).scaleb(-2))
percents = st.integers(min_value=0, max_value=15_000).map(lambda i: D(i).scaleb(-2))
# Built once here: a strategy made inside a composite costs hypothesis a source lookup per draw.
amount_terms = st.none() | st.builds(PercentOf, percent=percents, base=st.just("fee")) | st.builds(Fixed, amount=money)


@st.composite
def band_sets(draw: st.DrawFn, min_bands: int = 1) -> tuple[Band, ...]:
    """A valid band set: sorted distinct cut points, each joint inclusive on one side, in shuffled order."""
    cuts = sorted(draw(st.sets(values, min_size=min_bands - 1, max_size=6)))
    lower_side = [draw(st.booleans()) for _ in cuts]  # True: the band above the cut includes it
    bands = []
    for i in range(len(cuts) + 1):
        lower = Edge(value=cuts[i - 1], inclusive=lower_side[i - 1]) if i > 0 else None
        upper = Edge(value=cuts[i], inclusive=not lower_side[i]) if i < len(cuts) else None
        bands.append(Band(lower=lower, upper=upper, amount=draw(amount_terms)))
    return tuple(draw(st.permutations(bands)))


@given(band_sets(), values)
def test_exactly_one_band_applies_to_any_value(bands: tuple[Band, ...], value: Decimal) -> None:
    assert bands_check(bands) == []
    holding = [b for b in bands if b.contains(value)]
    assert len(holding) == 1
    assert bands[band_for(bands, value)] is holding[0]
    for band in bands:  # also every edge value itself
        for edge in (band.lower, band.upper):
            if edge is not None:
                assert sum(b.contains(edge.value) for b in bands) == 1


@given(band_sets(min_bands=2), st.data())
def test_a_gap_or_overlap_is_refused_naming_the_edge(bands: tuple[Band, ...], data: st.DataObject) -> None:
    # The bands in value order: the one unbounded below first, then by lower edge (cut points are distinct).
    ordered = sorted(range(len(bands)), key=lambda i: D("-Infinity") if (e := bands[i].lower) is None else e.value)
    joint = data.draw(st.integers(min_value=0, max_value=len(bands) - 2))
    left_index = ordered[joint]
    left = bands[left_index]
    edge = left.upper
    assert edge is not None
    # Half the narrowest finite band: moving one edge by it opens a gap or an overlap at that edge only.
    widths = [b.upper.value - b.lower.value for b in bands if b.lower is not None and b.upper is not None]
    step = min(widths, default=D(2)) / 2
    fault = data.draw(st.sampled_from(["flip", "lower", "higher"]))
    if fault == "flip":
        # Exactly one side included the edge: now both do (overlap) or neither does (gap).
        broken = Edge(value=edge.value, inclusive=not edge.inclusive)
        code = "band_overlap" if broken.inclusive else "band_gap"
    elif fault == "lower":
        broken, code = Edge(value=edge.value - step, inclusive=edge.inclusive), "band_gap"
    else:
        broken, code = Edge(value=edge.value + step, inclusive=edge.inclusive), "band_overlap"
    changed = list(bands)
    changed[left_index] = Band(lower=left.lower, upper=broken, amount=left.amount)
    problems = bands_check(tuple(changed))
    assert (f"bands[{left_index}].upper", code) in [(p.location, p.code) for p in problems]


@st.composite
def schemes_and_figures(draw: st.DrawFn) -> tuple[Scheme, PeriodFigures]:
    n_band = draw(st.integers(min_value=0, max_value=4))
    n_pool = draw(st.integers(min_value=0, max_value=4))
    groups = st.none() | st.sampled_from(["g1", "g2"])
    credit_rules: list[BandRule | PoolRule] = [
        BandRule(code=f"b{i}", kpi=f"k{i}", bands=draw(band_sets()), exclusive_group=draw(groups),
                 minimum=draw(st.none() | money))
        for i in range(n_band)
    ]  # fmt: skip
    credit_rules += [
        PoolRule(
            code=f"p{i}", kpi=f"q{i}", direction=draw(st.sampled_from(["higher", "lower"])), level=draw(values),
            category=draw(st.sampled_from(["A", "B"])), credit_allocation_percent=draw(percents),
            exclusive_group=draw(groups),
        )
        for i in range(n_pool)
    ]  # fmt: skip
    order = draw(st.permutations(credit_rules))
    pool = Pool(
        at_risk_percent=draw(percents),
        base="invoice",
        categories=(
            PerformanceCategory(name="A", allocation_percent=draw(percents)),
            PerformanceCategory(name="B", allocation_percent=draw(percents)),
        ),
    )
    bonus_rules = [
        BonusRule(code=f"x{i}", kpi=f"k{i}", bands=draw(band_sets())) for i in range(draw(st.integers(0, 3)))
    ]
    scheme = Scheme(
        currency=draw(st.sampled_from(["EUR", "JPY", "KWD"])),
        rounding=draw(st.sampled_from(["half_up", "half_even", "up", "ceiling"])),
        credit_rules=order,
        bonus_rules=bonus_rules,
        pool=pool,
        credit_cap=draw(amount_terms),
        bonus_cap=draw(amount_terms),
        credit_minimum=draw(st.none() | money),
        earn_back=draw(st.none() | st.just(EarnBack(periods=1))),
    )
    kpis = [f"k{i}" for i in range(n_band)] + [f"q{i}" for i in range(n_pool)]
    figures = PeriodFigures(
        period="2026-04",
        values={k: draw(st.none() | values) for k in kpis},
        fee_bases={"fee": draw(money), "invoice": draw(money)},
    )
    return scheme, figures


@given(schemes_and_figures(), st.lists(st.fixed_dictionaries({"k0": st.none() | values}), max_size=2))
def test_a_settlement_never_exceeds_its_caps(case: tuple[Scheme, PeriodFigures], after: list[dict]) -> None:
    scheme, figures = case
    statement = settlement_compute(scheme=scheme, figures=figures, after=after)
    credits = [line for line in statement.lines if line.kind == "credit"]
    bonuses = [line for line in statement.lines if line.kind == "bonus"]
    for line in (*credits, *bonuses):
        assert 0 <= line.amount <= line.computed
    if statement.credit_cap is not None:
        assert statement.credits_assessed <= statement.credit_cap
    if statement.bonus_cap is not None:
        assert statement.bonuses <= statement.bonus_cap
    if statement.at_risk_amount is not None:
        pool_lines = [line for line in credits if line.rule.startswith("p")]
        assert sum((line.amount for line in pool_lines), D(0)) <= statement.at_risk_amount
    assert statement.credits_due + statement.credits_pending + statement.credits_waived == statement.credits_assessed
    assert statement.net == statement.bonuses - statement.credits_due
    for group in ("g1", "g2"):
        members = [
            line for line, rule in zip(credits, scheme.credit_rules, strict=True) if rule.exclusive_group == group
        ]
        assert sum(1 for line in members if line.amount > 0) <= 1


@given(
    schemes_and_figures(),
    st.lists(
        st.tuples(st.sampled_from([f"2025-{m:02d}" for m in range(1, 13)]), money, money), unique_by=lambda c: c[0]
    ),
)
def test_each_correction_after_final_becomes_exactly_one_adjustment_line(
    case: tuple[Scheme, PeriodFigures], raw: list[tuple[str, Decimal, Decimal]]
) -> None:
    scheme, figures = case
    quantum = D(1).scaleb(-scheme.digits)
    corrections = [
        Correction(
            period=p,
            final_net=-a.quantize(quantum, rounding="ROUND_DOWN"),
            corrected_net=-b.quantize(quantum, rounding="ROUND_DOWN"),
        )
        for p, a, b in raw
    ]
    statement = settlement_compute(scheme=scheme, figures=figures, corrections=corrections)
    adjustments = [line for line in statement.lines if line.kind == "adjustment"]
    assert [line.rule for line in adjustments] == [f"adjustment:{c.period}" for c in corrections]
    for line, correction in zip(adjustments, corrections, strict=True):
        assert line.amount == correction.corrected_net - correction.final_net
    assert statement.payable == statement.net + sum((c.corrected_net - c.final_net for c in corrections), D(0))
    # A correction of an earlier period never changes this period's own lines.
    alone = settlement_compute(scheme=scheme, figures=figures)
    assert statement.lines[: len(alone.lines)] == alone.lines


MONTH_START = datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # April 2026 in Berlin: 43,200 minutes
MONTH_END = datetime(2026, 4, 30, 22, 0, tzinfo=UTC)
offsets = st.integers(min_value=-3_600_000_000, max_value=(43_200 + 60) * 60_000_000)  # microseconds
spans = st.integers(min_value=1, max_value=600 * 60_000_000)


def _interval(start: int, span: int) -> Interval:
    at = MONTH_START + timedelta(microseconds=start)
    return Interval(start=at, end=at + timedelta(microseconds=span))


intervals = st.builds(_interval, offsets, spans)


@given(st.lists(intervals, max_size=8), st.lists(intervals, max_size=3))
def test_downtime_is_bounded_and_the_minute_rules_are_ordered(
    outages: list[Interval], maintenance: list[Interval]
) -> None:
    def down(minutes: str, rule: str = "none") -> Decimal:
        return availability_compute(
            start=MONTH_START, end=MONTH_END, outages=outages, maintenance=maintenance,
            minutes=minutes, maintenance_rule=rule,  # type: ignore[arg-type]
        ).downtime_minutes  # fmt: skip

    exact = down("exact")
    # Merged, overlaps count once: never more than the raw sum, never more than the month.
    raw = sum((o.end - o.start for o in outages), timedelta(0))
    assert exact <= Interval(start=MONTH_START, end=MONTH_START + raw).minutes()
    assert exact <= 43_200
    # Dropping partial minutes never counts more than exact time; whole clock minutes never less.
    assert down("drop_partial") <= exact <= down("whole_minutes")
    # Forgiving maintenance never adds downtime.
    assert down("exact", "as_uptime") <= exact
    result = availability_compute(start=MONTH_START, end=MONTH_END, outages=outages)
    assert 0 <= result.percent <= 100
