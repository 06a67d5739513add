"""Control-chart rules, each on series built from its wording (docs/trends.md; wording quoted in spc.py).

Most tests give the limits by hand: centre 10, sigma 1, so the lines sit at 7, 8, 9 | 11, 12, 13
and are exact in binary floating point; "on a line" below means exactly equal to it. The
expected signals are read off the wording point by point in the comments.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pactboard.core.errors import PactboardError
from pactboard.scoring.spc import (
    D2,
    DIP_RULES,
    ControlLimits,
    Rule,
    control_limits_estimate,
    control_signals,
    dips_find,
)

LIMITS = ControlLimits(centre=10.0, sigma=1.0)


def obs(*values: float | str | None) -> list[tuple[str | int, Decimal | None]]:
    return [(i, None if v is None else Decimal(str(v))) for i, v in enumerate(values)]


def fired(values: list[float | str | None], rule: Rule) -> list[tuple[int, str | None, tuple[int, ...]]]:
    """(position, side, positions of the pattern) of every signal of one rule."""
    return [(s.index, s.side, s.points) for s in control_signals(points=obs(*values), limits=LIMITS, rules=(rule,))]


# --- rule 1: "A single point falls outside the 3-sigma limit." ---------------------------------


def test_rule_1_fires_beyond_3_sigma_and_not_on_the_limit() -> None:
    # 13 and 7 lie on the limits (not outside); 13.5 and 6.9 are outside, one on each side.
    assert fired([10, 13, 13.5, 7, 6.9, 10], "we1") == [(2, "above", (2,)), (4, "below", (4,))]


# --- rule 2: "Two out of three successive points fall in Zone A or beyond" (one side) -----------


def test_rule_2_two_of_three_beyond_2_sigma_same_side() -> None:
    # 12.5 at positions 1 and 3 with 11 between: the window 1..3 holds two points beyond 12.
    assert fired([10, 12.5, 11, 12.5, 10], "we2") == [(3, "above", (1, 3))]


def test_rule_2_needs_the_two_points_within_three() -> None:
    # 12.5 at positions 0 and 3: no three successive points hold both.
    assert fired([12.5, 10, 10, 12.5], "we2") == []


def test_rule_2_point_on_the_2_sigma_line_is_not_beyond() -> None:
    # 12 is on the zone line between B and A: only position 1 is beyond.
    assert fired([12, 12.5, 12], "we2") == []


def test_rule_2_applies_to_one_side_at_a_time() -> None:
    # 12.5 above, then 7.5 below (beyond 2 sigma, inside 3): one point per side, no signal.
    assert fired([12.5, 7.5, 10], "we2") == []


def test_rule_2_point_on_the_3_sigma_limit_counts_as_beyond_2_sigma() -> None:
    # Two points on the 3-sigma limit: no rule 1 signal, but both are beyond 2 sigma.
    assert fired([13, 13], "we1") == []
    assert fired([13, 13], "we2") == [(1, "above", (0, 1))]


def test_rule_2_keeps_firing_while_the_pattern_continues() -> None:
    # Three points beyond 2 sigma below: positions 0-1 complete the pattern, 1-2 (and 0) again.
    assert fired([7.5, 7.5, 7.5], "we2") == [(1, "below", (0, 1)), (2, "below", (0, 1, 2))]


def test_rule_2_missing_period_is_no_point() -> None:
    # Plotted points 12.5, 10, 12.5 (positions 0, 2, 3) are three successive points.
    assert fired([12.5, None, 10, 12.5], "we2") == [(3, "above", (0, 3))]


# --- rule 3: "Four out of five successive points fall in Zone B or beyond" (one side) -----------


def test_rule_3_four_of_five_beyond_1_sigma() -> None:
    # Positions 0, 1, 3, 4 beyond 11; position 2 at the centre: 4 of the 5 successive points.
    assert fired([11.5, 11.5, 10, 11.5, 11.5], "we3") == [(4, "above", (0, 1, 3, 4))]


def test_rule_3_point_on_the_1_sigma_line_is_not_beyond() -> None:
    # 11 is on the line: only three of the first five are beyond.
    assert fired([11.5, 11.5, 11.5, 11, 10], "we3") == []
    # 11.25 is beyond: four of four (the series' first points) complete the pattern at position 3.
    assert fired([11.5, 11.5, 11.5, 11.25, 10], "we3") == [(3, "above", (0, 1, 2, 3))]


def test_rule_3_does_not_add_both_sides() -> None:
    # 8.5 is beyond 1 sigma below; above: positions 0, 1, 4, 5, never four in five successive.
    assert fired([11.5, 11.5, 8.5, 8.5, 11.5, 11.5], "we3") == []


# --- rule 4: "Eight successive points fall in Zone C or beyond" (one side of the centre line) ---


def test_rule_4_eight_on_one_side_with_equal_values() -> None:
    # Equal consecutive values are still on the same side; the eighth point completes the run.
    assert fired([10.1] * 7 + [10.2], "we4") == [(7, "above", tuple(range(8)))]


def test_rule_4_point_on_the_centre_line_ends_the_run() -> None:
    # Position 4 is exactly on the centre line: on neither side, so no eight in a row.
    assert fired([10.5] * 4 + [10] + [10.5] * 4, "we4") == []


def test_rule_4_fires_at_each_point_that_extends_the_run() -> None:
    assert [s[0] for s in fired([9.5] * 10, "we4")] == [7, 8, 9]


def test_rule_4_missing_period_neither_ends_nor_extends_the_run() -> None:
    assert fired([10.5] * 4 + [None] + [10.5] * 4, "we4") == [(8, "above", (0, 1, 2, 3, 5, 6, 7, 8))]
    assert fired([10.5] * 3 + [None] + [10.5] * 4, "we4") == []  # seven points only


def test_rule_4_seven_and_one_on_the_other_side() -> None:
    assert fired([10.5] * 7 + [9.5], "we4") == []


# --- Nelson's tests -------------------------------------------------------------------------


def test_nelson_3_six_points_steadily_increasing_or_decreasing() -> None:
    assert fired([10, 10.1, 10.2, 10.3, 10.4, 10.5], "nelson3") == [(5, "increasing", (0, 1, 2, 3, 4, 5))]
    assert [s[:2] for s in fired([11, 10.8, 10.6, 10.4, 10.2, 10, 9.8], "nelson3")] == [
        (5, "decreasing"),
        (6, "decreasing"),
    ]


def test_nelson_3_equal_consecutive_values_end_the_run() -> None:
    # 10.2, 10.2 is neither up nor down: the longest steady rise has four points.
    assert fired([10, 10.1, 10.2, 10.2, 10.3, 10.4, 10.5], "nelson3") == []
    assert fired([10, 10.1, 10.2, 10.3, 10.4], "nelson3") == []  # five points only


def test_nelson_4_fourteen_alternating() -> None:
    assert fired([10, 10.5] * 7, "nelson4") == [(13, None, tuple(range(14)))]
    assert fired([10, 10.5] * 6 + [10], "nelson4") == []  # thirteen points


def test_nelson_4_equal_consecutive_values_break_the_alternation() -> None:
    values: list[float | str | None] = [10, 10.5] * 7
    values[8] = 10.5  # positions 7 and 8 are both 10.5: a step of zero in the middle
    assert fired(values, "nelson4") == []


def test_nelson_7_fifteen_within_1_sigma_a_point_on_the_line_is_within() -> None:
    assert fired([10.5, 9.5] * 7 + [11], "nelson7") == [(14, None, tuple(range(15)))]
    assert fired([10.5, 9.5] * 7 + [11.01], "nelson7") == []


def test_nelson_8_eight_outside_zone_c_on_both_sides() -> None:
    assert fired([11.5, 8.5] * 4, "nelson8") == [(7, None, tuple(range(8)))]
    assert fired([11.5] * 8, "nelson8") == []  # one side only: that is rule 4's business
    assert fired([11.5, 8.5] * 3 + [11.5, 9], "nelson8") == []  # 9 is on the 1-sigma line: zone C


def test_signals_are_ordered_by_position_then_rule() -> None:
    signals = control_signals(points=obs(13.5, 13.5), limits=LIMITS, rules=("we2", "we1"))
    assert [(s.index, s.rule) for s in signals] == [(0, "we1"), (1, "we1"), (1, "we2")]
    assert signals[0].wording == "A single point falls outside the 3-sigma limit."


def test_unknown_rule_is_refused() -> None:
    with pytest.raises(PactboardError, match="Unknown control-chart rule"):
        control_signals(points=obs(1, 2), limits=LIMITS, rules=("we9",))  # type: ignore[arg-type]


# --- limits -------------------------------------------------------------------------------


def test_limits_mean_and_average_moving_range_skipping_gaps() -> None:
    # Values 1, 3, 2, -, 4: mean 10 / 4 = 2.5. Moving ranges only between neighbours that both
    # have a value: |3 - 1| = 2, |2 - 3| = 1 (none across the gap); average 1.5, sigma 1.5 / 1.128.
    limits = control_limits_estimate(obs(1, 3, 2, None, 4))
    assert limits.centre == 2.5
    assert limits.sigma == pytest.approx(1.5 / 1.128)
    assert (limits.points, limits.moving_ranges) == (4, 2)
    assert D2 == 1.128  # Montgomery, Appendix VI, d2 for n = 2


def test_limits_need_two_neighbouring_values() -> None:
    with pytest.raises(PactboardError, match="two values in consecutive periods"):
        control_limits_estimate(obs(1, None, 2))


def test_bad_value_is_named() -> None:
    with pytest.raises(PactboardError) as caught:
        control_limits_estimate([(0, Decimal(1)), (1, 2.0)])  # type: ignore[list-item]
    assert caught.value.details[0].location == "values[1].value"


# --- dips: rules 1-4 on the unfavourable side only -------------------------------------------


def test_dips_keep_the_unfavourable_side_only() -> None:
    # 6.5 is below the 3-sigma limit (7), 13.5 above (13).
    points = obs(10, 6.5, 13.5, 10)
    higher = dips_find(points=points, direction="higher", limits=LIMITS)
    lower = dips_find(points=points, direction="lower", limits=LIMITS)
    assert [(s.rule, s.index) for s in higher.signals] == [("we1", 1)]
    assert [(s.rule, s.index) for s in lower.signals] == [("we1", 2)]
    assert higher.at(1)[0].side == "below"


def test_dips_from_the_kpis_own_history() -> None:
    # 10, 12 five times, then 2 (11 values). Mean = (50 + 60 + 2) / 11 = 10.1818...
    # Moving ranges: nine of 2 and |2 - 12| = 10: average 28 / 10 = 2.8; sigma = 2.8 / 1.128 = 2.4823.
    # Lower limit = 10.1818 - 3 * 2.4823 = 2.7349: the last value, 2, is below it (rule 1).
    # Rule 3 below needs four points beyond 10.1818 - 2.4823 = 7.70: only the last. Rule 4 below
    # needs eight below the centre: the 10s alternate with 12s. So one dip.
    dips = dips_find(points=obs(*([10, 12] * 5), 2), direction="higher")
    assert dips.limits is not None
    assert dips.limits.centre == pytest.approx(112 / 11)
    assert dips.limits.sigma == pytest.approx(2.8 / 1.128)
    assert [(s.rule, s.index) for s in dips.signals] == [("we1", 10)]


def test_dips_need_a_history_of_eight() -> None:
    dips = dips_find(points=obs(10, 10, 10, 10, 10, 10, 2), direction="higher")
    assert dips.signals == ()
    assert dips.limits is None
    assert "needs at least 8" in dips.reason


# --- properties: the rules see both halves of the chart alike -------------------------------

# Values on a half-sigma grid around the centre, so points on lines and equal neighbours are common.
grid_values = st.lists(
    st.none() | st.integers(min_value=-8, max_value=8).map(lambda k: Decimal(10) + Decimal(k) / 2),
    min_size=1,
    max_size=40,
)
SWAP = {"above": "below", "below": "above", "increasing": "decreasing", "decreasing": "increasing", None: None}


@given(grid_values)
def test_mirrored_series_gives_mirrored_signals(values: list[Decimal | None]) -> None:
    # Reflecting every value about the centre line (x -> 20 - x) swaps the halves of the chart and
    # turns rises into falls; the wording treats both halves alike, so the signals must mirror.
    points = [(i, v) for i, v in enumerate(values)]
    mirrored = [(i, None if v is None else Decimal(20) - v) for i, v in enumerate(values)]
    signals = control_signals(points=points, limits=LIMITS)
    reflected = control_signals(points=mirrored, limits=LIMITS)
    assert [(s.rule, s.index, SWAP[s.side], s.points) for s in signals] == [
        (s.rule, s.index, s.side, s.points) for s in reflected
    ]


@given(grid_values, st.sampled_from(("higher", "lower")))
def test_dips_are_the_unfavourable_rule_1_to_4_signals(values: list[Decimal | None], direction: str) -> None:
    points = [(i, v) for i, v in enumerate(values)]
    bad = "below" if direction == "higher" else "above"
    expected = [s for s in control_signals(points=points, limits=LIMITS, rules=DIP_RULES) if s.side == bad]
    assert list(dips_find(points=points, direction=direction, limits=LIMITS).signals) == expected  # type: ignore[arg-type]
