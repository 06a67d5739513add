"""A KPI's trend over its history, its runs against the target, and a plain-language classification.

Pure (no ORM). docs/trends.md says which test and threshold gives each word. The statistics come
from maintained libraries, not from code written here:

- Mann-Kendall test and Sen's slope: ``pymannkendall.original_test`` (Hussain & Mahmud 2019,
  JOSS 4(39):1556), which follows Gilbert (1987), *Statistical Methods for Environmental Pollution
  Monitoring*, 16.4. Its conventions, which this module keeps:
  S = sum of sign(x_j - x_i) over i < j; a tie counts 0. Var(S) = [n(n-1)(2n+5) - sum t(t-1)(2t+5)]
  / 18 over groups of t tied values (the tie correction). Z = (S - 1) / sqrt(Var S) for S > 0,
  (S + 1) / sqrt(Var S) for S < 0, 0 for S = 0 (the continuity correction); p two-sided from the
  normal distribution. Missing periods: dropped from S (S depends only on the order of the values
  present, so the gap changes nothing else); Sen's slope is the median of (x_j - x_i) / (j - i)
  over pairs of values present, with j - i counted in periods, so it is per period across gaps.
- Sign test: ``scipy.stats.binomtest`` (one-sided, p = 1/2), periods exactly on target dropped, as
  a sign test drops zero differences (Conover, *Practical Nonparametric Statistics*, 3.4).

Comparisons against the target are made in ``Decimal`` (``is_at_or_beyond``), so a value exactly
on target is exactly on target; the statistics are float.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.scoring.attainment import DIRECTIONS, Direction, is_at_or_beyond
from pactboard.scoring.series import Label, Observation, series_check

__all__ = [
    "ALPHA",
    "CLASSIFY_MIN_POINTS",
    "SIGN_WINDOW",
    "TREND_MIN_POINTS",
    "KpiClassification",
    "Run",
    "TargetRuns",
    "TrendTest",
    "TrendWord",
    "Word",
    "kpi_classify",
    "target_runs_find",
    "trend_test",
]

# Significance level of every test here (two-sided for Mann-Kendall, one-sided for the sign test).
ALPHA = 0.05
# With four values the largest possible Z is (6 - 1) / sqrt(8.667) = 1.70, p = 0.089: the test
# cannot reach 0.05 below five values, so it is not run on fewer.
TREND_MIN_POINTS = 5
# The sign test looks at the most recent periods with a value and a target, at most this many.
SIGN_WINDOW = 12
# Fewer periods than this and a KPI is "insufficient_data": one year of quarters is too little to call it.
CLASSIFY_MIN_POINTS = 6

TrendWord = Literal["improving", "declining", "no_trend"]
Word = Literal[
    "consistently_under_performing",
    "consistently_over_achieving",
    "improving",
    "declining",
    "stable",
    "insufficient_data",
]
RunKind = Literal["miss", "exceedance"]


def _check_direction(direction: object) -> None:
    if direction not in DIRECTIONS:
        raise PactboardError(
            f"Unknown KPI direction {direction!r}: use 'higher' or 'lower'.",
            details=[ErrorDetail("must be 'higher' or 'lower'", "direction", "invalid_direction")],
        )


@dataclass(frozen=True, kw_only=True)
class TrendTest:
    """Mann-Kendall test with Sen's slope, read in the KPI's direction.

    ``slope``: Sen's slope in the KPI's unit per period (positive = rising). ``word``: improving
    or declining when p < ``alpha`` (rising is improving for a higher-is-better KPI), else no_trend.
    """

    n: int
    s: int
    var_s: float
    z: float
    p_value: float
    tau: float  # S / (n(n-1)/2), Kendall's tau-a
    slope: float
    alpha: float
    direction: Direction
    word: TrendWord


def trend_test(*, points: Sequence[Observation], direction: Direction, alpha: float = ALPHA) -> TrendTest:
    """The Mann-Kendall test and Sen's slope on a KPI's history (missing periods as None)."""
    _check_direction(direction)
    series = series_check(points)
    values = series.floats()
    n = sum(v is not None for v in values)
    if n < TREND_MIN_POINTS:
        raise PactboardError(
            f"A trend needs at least {TREND_MIN_POINTS} values; this history has {n}.",
            details=[ErrorDetail(f"needs {TREND_MIN_POINTS} values", "values", "too_short")],
        )
    import pymannkendall  # imported when used: it loads scipy, which takes a second or more

    result = pymannkendall.original_test([math.nan if v is None else v for v in values], alpha=alpha)
    p = float(result.p)
    word: TrendWord = "no_trend"
    if p < alpha and result.s != 0:
        rising = result.s > 0
        word = "improving" if rising == (direction == "higher") else "declining"
    return TrendTest(
        n=n,
        s=int(result.s),
        var_s=float(result.var_s),
        z=float(result.z),
        p_value=p,
        tau=float(result.Tau),
        slope=float(result.slope),
        alpha=alpha,
        direction=direction,
        word=word,
    )


@dataclass(frozen=True, kw_only=True)
class Run:
    """Consecutive periods (positions ``start`` to ``end``, both included) all missing, or all beating, the target."""

    kind: RunKind
    start: int
    end: int
    labels: tuple[Label, ...]

    @property
    def length(self) -> int:
        return self.end - self.start + 1


@dataclass(frozen=True, kw_only=True)
class TargetRuns:
    """Every run of misses and of exceedances; ``current`` is the run that holds the last period, if any."""

    runs: tuple[Run, ...]
    current: Run | None

    def longest(self, kind: RunKind) -> int:
        return max((r.length for r in self.runs if r.kind == kind), default=0)


def _outcomes(
    values: Sequence[Decimal | None], targets: Sequence[Decimal | None], direction: Direction
) -> list[RunKind | Literal["on_target"] | None]:
    """Per period: a miss (worse than the target), an exceedance (strictly better), on target, or None (no data)."""
    out: list[RunKind | Literal["on_target"] | None] = []
    for value, target in zip(values, targets, strict=True):
        if value is None or target is None:
            out.append(None)
        elif value == target:
            out.append("on_target")
        else:
            out.append("exceedance" if is_at_or_beyond(direction=direction, value=value, level=target) else "miss")
    return out


def _targets_check(targets: Sequence[Decimal | None], length: int) -> None:
    problems = [
        ErrorDetail("must be a finite Decimal or None", f"targets[{i}]", "not_decimal")
        for i, t in enumerate(targets)
        if t is not None and (not isinstance(t, Decimal) or not t.is_finite())
    ]
    if len(targets) != length:
        problems.append(ErrorDetail(f"has {len(targets)} targets for {length} periods", "targets", "length_mismatch"))
    if problems:
        raise PactboardError("Give one target in force (or None) per period of the history.", details=problems)


def target_runs_find(
    *, points: Sequence[Observation], targets: Sequence[Decimal | None], direction: Direction
) -> TargetRuns:
    """Runs of consecutive misses and of consecutive exceedances of the target in force.

    A miss is a value worse than the target, an exceedance a value strictly better; a value
    exactly on target, a missing value or a period without a target ends any run (consecutive
    means consecutive periods here, unlike a control chart's plotted points: a missed report is
    not evidence that the target was missed).
    """
    _check_direction(direction)
    series = series_check(points)
    _targets_check(targets, len(series.values))
    outcomes = _outcomes(series.values, targets, direction)
    runs: list[Run] = []
    start = 0
    for i in range(1, len(outcomes) + 1):
        if i < len(outcomes) and outcomes[i] == outcomes[start]:
            continue
        kind = outcomes[start]
        if kind in ("miss", "exceedance"):
            runs.append(Run(kind=kind, start=start, end=i - 1, labels=series.labels[start:i]))
        start = i
    current = runs[-1] if runs and runs[-1].end == len(outcomes) - 1 else None
    return TargetRuns(runs=tuple(runs), current=current)


@dataclass(frozen=True, kw_only=True)
class KpiClassification:
    """One word for a KPI's history and the evidence behind it (docs/trends.md, "Classification")."""

    word: Word
    reason: str
    periods: int  # periods with a value
    window: int  # periods in the sign test: the last ones with a value and a target, at most SIGN_WINDOW
    misses: int  # in the window
    exceedances: int
    on_target: int
    p_under: float | None  # one-sided sign test: misses more often than chance
    p_over: float | None
    trend: TrendTest | None
    runs: TargetRuns


def kpi_classify(
    *,
    points: Sequence[Observation],
    targets: Sequence[Decimal | None],
    direction: Direction,
    alpha: float = ALPHA,
) -> KpiClassification:
    """Consistently under-performing / over-achieving, improving, declining or stable, first that applies.

    1. consistently_under_performing: sign test over the last ``SIGN_WINDOW`` periods with a
       value and a target, misses more often than exceedances with one-sided p < alpha;
    2. consistently_over_achieving: the same for exceedances;
    3. improving / 4. declining: Mann-Kendall over the whole history, p < alpha, in the KPI's direction;
    5. stable: none of these. Fewer than ``CLASSIFY_MIN_POINTS`` values: insufficient_data.
    """
    _check_direction(direction)
    series = series_check(points)
    _targets_check(targets, len(series.values))
    runs = target_runs_find(points=points, targets=targets, direction=direction)
    periods = sum(v is not None for v in series.values)
    judged = [o for o in _outcomes(series.values, targets, direction) if o is not None][-SIGN_WINDOW:]
    misses, exceedances = judged.count("miss"), judged.count("exceedance")
    decided = misses + exceedances
    p_under = p_over = None
    if decided:
        from scipy.stats import binomtest  # imported when used: scipy takes a second or more to load

        p_under = float(binomtest(misses, decided, 0.5, alternative="greater").pvalue)
        p_over = float(binomtest(exceedances, decided, 0.5, alternative="greater").pvalue)
    trend = trend_test(points=points, direction=direction, alpha=alpha) if periods >= TREND_MIN_POINTS else None

    counts = f"{misses} misses and {exceedances} exceedances in the last {len(judged)} periods"
    word: Word
    if periods < CLASSIFY_MIN_POINTS:
        word, reason = "insufficient_data", f"{periods} values: at least {CLASSIFY_MIN_POINTS} are needed."
    elif p_under is not None and p_under < alpha:
        word, reason = "consistently_under_performing", f"{counts} (sign test p = {p_under:.3f} < {alpha})."
    elif p_over is not None and p_over < alpha:
        word, reason = "consistently_over_achieving", f"{counts} (sign test p = {p_over:.3f} < {alpha})."
    elif trend is not None and trend.word != "no_trend":
        word = trend.word
        reason = f"Mann-Kendall p = {trend.p_value:.3f} < {alpha}, Sen's slope {trend.slope:+.4g} per period."
    else:
        word = "stable"
        trend_p = f"Mann-Kendall p = {trend.p_value:.3f}" if trend is not None else "no trend test"
        reason = f"No test is significant at {alpha}: {counts}; {trend_p}."
    return KpiClassification(
        word=word,
        reason=reason,
        periods=periods,
        window=len(judged),
        misses=misses,
        exceedances=exceedances,
        on_target=judged.count("on_target"),
        p_under=p_under,
        p_over=p_over,
        trend=trend,
        runs=runs,
    )
