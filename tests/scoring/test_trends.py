"""Mann-Kendall with Sen's slope, runs against the target and the classification (docs/trends.md).

Every expected S, Var(S), Z and slope is worked out by hand in the comments from the definitions
(Gilbert 1987, 16.4: S = sum of sign(x_j - x_i), i < j; Var(S) = [n(n-1)(2n+5) - sum t(t-1)(2t+5)]
/ 18; Z = (S - 1) / sqrt(Var S) for S > 0), then checked against the module (which calls
pymannkendall) and, where the two define the same thing, against scipy.stats.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from scipy import stats

from pactboard.core.errors import PactboardError
from pactboard.scoring.trends import kpi_classify, target_runs_find, trend_test

# Source: D. Little, "A Mann-Kendall Example ('By Hand')", College of the Holy Cross,
# https://mathcs.holycross.edu/~little/Montserrat/MannKendallByHand.txt (14 values, one tie).
LITTLE = [12.9, 14.8, 13.2, 15.7, 13.8, 15.6, 12.9, 11.0, 17.3, 15.9, 19.0, 18.3, 20.1, 21.7]


def obs(*values: float | str | None) -> list[tuple[str | int, Decimal | None]]:
    return [(i, None if v is None else Decimal(str(v))) for i, v in enumerate(values)]


def test_mann_kendall_on_the_holy_cross_worked_example() -> None:
    # Each value against every later one (+1 larger, -1 smaller, 0 equal), row sums:
    # 12.9: +11 -1 (11.0) and 0 (the other 12.9) = 10;  14.8: 8 - 4 = 4;  13.2: 9 - 2 = 7;
    # 15.7: 6 - 4 = 2;  13.8: 7 - 2 = 5;  15.6: 6 - 2 = 4;  12.9: 6 - 1 = 5;  11.0: 6;
    # 17.3: 4 - 1 = 3;  15.9: 4;  19.0: 2 - 1 = 1;  18.3: 2;  20.1: 1.  S = 54 (the source: 54).
    # Var(S) = (14 * 13 * 33 - 2 * 1 * 9) / 18 = (6006 - 18) / 18 = 332.667 (one pair of ties).
    # Z = (54 - 1) / sqrt(332.667) = 53 / 18.2392 = 2.9058 (the source: 2.9058); p = 2 * (1 - Phi(Z)).
    result = trend_test(points=obs(*LITTLE), direction="higher")
    assert result.n == 14
    assert result.s == 54
    assert result.var_s == pytest.approx((6006 - 18) / 18)
    assert result.z == pytest.approx(2.9058, abs=5e-5)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(53 / math.sqrt(5988 / 18)))
    assert result.tau == pytest.approx(54 / 91)
    assert result.word == "improving"
    assert trend_test(points=obs(*LITTLE), direction="lower").word == "declining"


def test_holy_cross_example_against_scipy_kendalltau_and_theilslopes() -> None:
    # scipy's tau-b against time (no ties in time) is S / sqrt(91 * (91 - 1)): the one tied pair
    # of values leaves 90 untied pairs. Its asymptotic p uses Z = S / sqrt(Var S) without the
    # continuity correction, with the same tie-corrected variance.
    result = trend_test(points=obs(*LITTLE), direction="higher")
    tau_b = stats.kendalltau(range(len(LITTLE)), LITTLE, method="asymptotic")
    assert tau_b.statistic == pytest.approx(result.s / math.sqrt(91 * 90))
    assert tau_b.pvalue == pytest.approx(2 * stats.norm.sf(result.s / math.sqrt(result.var_s)))
    # Sen's slope is the Theil-Sen slope: the median of the 91 pairwise slopes.
    assert result.slope == pytest.approx(stats.theilslopes(LITTLE, range(len(LITTLE))).slope)


def test_mann_kendall_small_series_by_hand() -> None:
    # 1, 3, 2, 5, 4: rows 1: +4; 3: -1 +1 +1 = 1; 2: +2; 5: -1.  S = 6.
    # Var(S) = 5 * 4 * 15 / 18 = 16.667 (no ties); Z = 5 / 4.0825 = 1.2247; p = 0.2207: no trend.
    # Sen: pairwise slopes 2, 0.5, 1.333, 0.75, -1, 1, 0.333, 3, 1, -1; sorted, the middle two
    # are 0.75 and 1: median 0.875.
    result = trend_test(points=obs(1, 3, 2, 5, 4), direction="higher")
    assert (result.s, result.var_s) == (6, pytest.approx(50 / 3))
    assert result.z == pytest.approx(5 / math.sqrt(50 / 3))
    assert result.p_value == pytest.approx(0.2207, abs=5e-5)
    assert result.slope == pytest.approx(0.875)
    assert result.word == "no_trend"
    # No ties anywhere: scipy's tau (b = a here) is S / 10, and its exact p is a different test.
    assert stats.kendalltau(range(5), [1, 3, 2, 5, 4]).statistic == pytest.approx(result.tau) == 0.6


def test_missing_period_is_dropped_from_s_and_counted_in_the_slope() -> None:
    # 1, 3, -, 2, 5, 4: the values present are in the same order as above, so S = 6, n = 5.
    # Sen over positions 0, 1, 3, 4, 5: slopes 2/1, 1/3, 4/4, 3/5, -1/2, 2/3, 1/4, 3/1, 2/2, -1/1;
    # sorted -1, -0.5, 0.25, 0.333, 0.6, 0.667, 1, 1, 2, 3: median (0.6 + 0.667) / 2 = 0.6333.
    result = trend_test(points=obs(1, 3, None, 2, 5, 4), direction="higher")
    assert (result.n, result.s) == (5, 6)
    assert result.slope == pytest.approx((0.6 + 2 / 3) / 2)


def test_steady_rise_is_significant_and_read_in_the_kpis_direction() -> None:
    # 1..10: S = 45 (every pair rises), Var(S) = 10 * 9 * 25 / 18 = 125, Z = 44 / sqrt(125) = 3.9355.
    rising = obs(*range(1, 11))
    higher = trend_test(points=rising, direction="higher")
    assert (higher.s, higher.var_s, higher.slope) == (45, 125, 1)
    assert higher.z == pytest.approx(44 / math.sqrt(125))
    assert higher.word == "improving"
    assert trend_test(points=rising, direction="lower").word == "declining"
    assert trend_test(points=obs(*range(10, 0, -1)), direction="lower").word == "improving"


def test_constant_series_has_no_trend() -> None:
    # Ten equal values: S = 0; every pair is tied, Var(S) = (2250 - 2250) / 18 = 0; Z = 0 by the convention.
    result = trend_test(points=obs(*[5] * 10), direction="higher")
    assert (result.s, result.var_s, result.z, result.p_value, result.slope) == (0, 0, 0, 1, 0)
    assert result.word == "no_trend"


def test_trend_needs_five_values() -> None:
    with pytest.raises(PactboardError, match="at least 5 values"):
        trend_test(points=obs(1, 2, None, 3, 4), direction="higher")


# --- runs of misses and exceedances --------------------------------------------------------


def test_runs_against_the_target() -> None:
    # Target 10, higher is better: miss, miss, on target, exc, exc, no data, exc, miss.
    targets = [Decimal(10)] * 8
    runs = target_runs_find(points=obs(9, 8, 10, 11, 12, None, 13, 9), targets=targets, direction="higher")
    assert [(r.kind, r.start, r.end) for r in runs.runs] == [
        ("miss", 0, 1),
        ("exceedance", 3, 4),
        ("exceedance", 6, 6),
        ("miss", 7, 7),
    ]
    assert (runs.longest("miss"), runs.longest("exceedance")) == (2, 2)
    assert runs.current is not None
    assert runs.current.kind == "miss"
    # Lower is better: the same values swap misses and exceedances.
    lower = target_runs_find(points=obs(9, 8, 10, 11, 12, None, 13, 9), targets=targets, direction="lower")
    assert [(r.kind, r.start, r.end) for r in lower.runs][:2] == [("exceedance", 0, 1), ("miss", 3, 4)]


def test_runs_follow_the_target_in_force_and_a_missing_target_breaks_them() -> None:
    # Milestone targets 8, 8, then 10: the value 9 meets the first two and misses the third.
    runs = target_runs_find(
        points=obs(9, 9, 9, 9, 9),
        targets=[Decimal(8), Decimal(8), Decimal(10), None, Decimal(10)],
        direction="higher",
    )
    assert [(r.kind, r.start, r.end) for r in runs.runs] == [("exceedance", 0, 1), ("miss", 2, 2), ("miss", 4, 4)]


def test_targets_must_match_the_history() -> None:
    with pytest.raises(PactboardError, match="one target in force"):
        target_runs_find(points=obs(1, 2), targets=[Decimal(1)], direction="higher")


# --- classification -------------------------------------------------------------------------


def test_under_performing_by_the_sign_test() -> None:
    # Six misses of six: P(X >= 6 | n = 6, p = 1/2) = 1/64 = 0.0156 < 0.05.
    result = kpi_classify(points=obs(90, 91, 90, 91, 90, 91), targets=[Decimal(100)] * 6, direction="higher")
    assert result.word == "consistently_under_performing"
    assert result.p_under == pytest.approx(1 / 64)
    assert (result.misses, result.exceedances, result.window) == (6, 0, 6)


def test_five_misses_of_six_is_not_consistent() -> None:
    # P(X >= 5 | 6) = (6 + 1) / 64 = 0.109. Mann-Kendall on 99, 98, 99, 98, 101, 98.5: rows
    # 99: -1 0 -1 +1 -1 = -2; 98: +1 0 +1 +1 = 3; 99: -1 +1 -1 = -1; 98: +2; 101: -1. S = 1: no trend.
    result = kpi_classify(points=obs(99, 98, 99, 98, 101, 98.5), targets=[Decimal(100)] * 6, direction="higher")
    assert result.p_under == pytest.approx(7 / 64)
    assert result.trend is not None
    assert result.trend.s == 1
    assert result.word == "stable"


def test_over_achieving_by_the_sign_test() -> None:
    result = kpi_classify(points=obs(*[101] * 6), targets=[Decimal(100)] * 6, direction="higher")
    assert result.word == "consistently_over_achieving"
    assert result.p_over == pytest.approx(1 / 64)


def test_values_on_target_leave_the_sign_test() -> None:
    # 100 x4 on target, 99 x2 misses: the sign test sees n = 2, P(X >= 2 | 2) = 1/4.
    # Mann-Kendall: the 8 pairs (100, 99) fall, S = -8; ties t = 4 and 2:
    # Var(S) = (6*5*17 - 4*3*13 - 2*1*9) / 18 = (510 - 156 - 18) / 18 = 18.667; Z = -7 / 4.3205 = -1.62, p = 0.105.
    result = kpi_classify(points=obs(100, 100, 100, 100, 99, 99), targets=[Decimal(100)] * 6, direction="higher")
    assert (result.on_target, result.misses) == (4, 2)
    assert result.p_under == pytest.approx(1 / 4)
    assert result.trend is not None
    assert (result.trend.s, result.trend.var_s) == (-8, pytest.approx(336 / 18))
    assert result.word == "stable"


def test_improving_and_declining_by_mann_kendall() -> None:
    # 94..105 against 100: 6 misses, 1 on target, 5 exceedances: P(X >= 6 | 11) = 0.5, no sign.
    # Mann-Kendall: S = 66, Var(S) = 12 * 11 * 29 / 18 = 212.667, Z = 65 / 14.583 = 4.46.
    points = obs(*range(94, 106))
    targets = [Decimal(100)] * 12
    higher = kpi_classify(points=points, targets=targets, direction="higher")
    assert higher.word == "improving"
    assert higher.trend is not None
    assert higher.trend.s == 66
    lower = kpi_classify(points=points, targets=targets, direction="lower")
    assert lower.word == "declining"


def test_consistent_miss_outranks_the_trend() -> None:
    # 91..102 against 100: 9 misses, 2 exceedances: P(X >= 9 | 11) = (55 + 11 + 1) / 2048 = 0.0327,
    # though the values rise significantly: the contract is missed first, the trend is evidence.
    result = kpi_classify(points=obs(*range(91, 103)), targets=[Decimal(100)] * 12, direction="higher")
    assert result.p_under == pytest.approx(67 / 2048)
    assert result.word == "consistently_under_performing"
    assert result.trend is not None
    assert result.trend.word == "improving"


def test_sign_test_window_is_the_last_twelve() -> None:
    # Twelve misses long ago, then twelve exceedances: only the last twelve count.
    result = kpi_classify(points=obs(*([90] * 12 + [110] * 12)), targets=[Decimal(100)] * 24, direction="higher")
    assert (result.window, result.misses, result.exceedances) == (12, 0, 12)
    assert result.word == "consistently_over_achieving"


def test_too_short_a_history_is_said_so() -> None:
    result = kpi_classify(points=obs(90, 90, 90, 90, 90), targets=[Decimal(100)] * 5, direction="higher")
    assert result.word == "insufficient_data"
