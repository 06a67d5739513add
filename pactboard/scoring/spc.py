"""Control-chart signals on a KPI's history: the Western Electric rules 1-4 and four of Nelson's tests.

One pure module (no ORM, no numpy): the trends page and the governance dip alerts both call it.
docs/trends.md is the written definition; the tests build one series per rule from its wording.

Chart: an individuals chart (one value per period). Centre line = mean of the values; sigma =
average moving range / d2, d2 = 1.128 for ranges of two (Montgomery, *Introduction to Statistical
Quality Control*, 6.4; Wheeler & Chambers, *Understanding Statistical Process Control*). The moving
range measures point-to-point variation, so a shift or a trend in the level (the very things rules
2-4 look for) does not widen the limits the way the overall standard deviation would.

Wording (Western Electric, *Statistical Quality Control Handbook*, 1956, "Tests for unnatural patterns"; each rule
is applied to one half of the chart at a time):

- rule 1: "A single point falls outside the 3-sigma limit."
- rule 2: "Two out of three successive points fall in Zone A or beyond" (beyond 2 sigma).
- rule 3: "Four out of five successive points fall in Zone B or beyond" (beyond 1 sigma).
- rule 4: "Eight successive points fall in Zone C or beyond" (on one side of the centre line).

Nelson (1984), "The Shewhart Control Chart - Tests for Special Causes", *Journal of Quality
Technology* 16(4), adds patterns the four rules cannot see:

- test 3: "Six points in a row steadily increasing or decreasing."
- test 4: "Fourteen points in a row alternating up and down."
- test 7: "Fifteen points in a row in zone C (above and below centerline)."
- test 8: "Eight points in a row on both sides of centerline with none in zone C."

(Nelson's other tests repeat the Western Electric ones: his 1, 5, 6 are rules 1, 2, 3; his 2 is
rule 4 with nine points instead of eight.)

Edge cases the wording decides:

- "outside the 3-sigma limit", "beyond": strictly past the line. A point exactly on a limit or a
  zone line belongs to the inner zone (on the 3-sigma limit is no rule 1 signal, but it is beyond
  2 sigma for rule 2).
- "on one side": a point exactly on the centre line is on neither side; it ends a run of rule 4.
- "steadily increasing", "alternating": two equal consecutive values are neither up nor down;
  they end the run.
- "successive points": the plotted points. A missing period is no point: it neither ends nor
  extends a run, and every signal lists the positions of its points, so the gap stays visible.

A signal is reported at each point that completes its pattern (the point itself takes part), so
a run of ten points on one side gives rule 4 signals at its 8th, 9th and 10th points.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.scoring.attainment import DIRECTIONS, Direction
from pactboard.scoring.series import Label, Observation, Series, series_check

__all__ = [
    "D2",
    "DIPS_MIN_POINTS",
    "DIP_RULES",
    "RULES",
    "RULE_WORDING",
    "ControlLimits",
    "ControlSignal",
    "Dips",
    "Rule",
    "control_limits_estimate",
    "control_signals",
    "dips_find",
]

Rule = Literal["we1", "we2", "we3", "we4", "nelson3", "nelson4", "nelson7", "nelson8"]
RULES: tuple[Rule, ...] = get_args(Rule)
DIP_RULES: tuple[Rule, ...] = ("we1", "we2", "we3", "we4")

RULE_WORDING: dict[Rule, str] = {
    "we1": "A single point falls outside the 3-sigma limit.",
    "we2": "Two out of three successive points fall in Zone A or beyond (beyond 2 sigma, same side).",
    "we3": "Four out of five successive points fall in Zone B or beyond (beyond 1 sigma, same side).",
    "we4": "Eight successive points fall in Zone C or beyond (on the same side of the centre line).",
    "nelson3": "Six points in a row steadily increasing or decreasing.",
    "nelson4": "Fourteen points in a row alternating up and down.",
    "nelson7": "Fifteen points in a row in zone C (within 1 sigma, above and below the centre line).",
    "nelson8": "Eight points in a row on both sides of the centre line with none in zone C.",
}

# Expected range of two independent normal values in units of sigma (the d2 constant for n = 2).
D2 = 1.128
# A chart on fewer points is too soft to raise an alert: eight is the shortest history on which
# every Western Electric rule (rule 4 needs eight points) can fire.
DIPS_MIN_POINTS = 8

Side = Literal["above", "below", "increasing", "decreasing"]


@dataclass(frozen=True, kw_only=True)
class ControlLimits:
    """Centre line and sigma of an individuals chart, and what they were estimated from."""

    centre: float
    sigma: float
    points: int = 0  # values the estimate used (0 when given by hand)
    moving_ranges: int = 0

    def line(self, k: float) -> float:
        """The line ``k`` sigmas from the centre (negative ``k`` below it)."""
        return self.centre + k * self.sigma


@dataclass(frozen=True, kw_only=True)
class ControlSignal:
    """A rule's pattern, reported at the point that completes it.

    ``index``/``label``: that point's position in the series and its period. ``points``: positions
    of the points that make the pattern (the ones beyond the line for rules 2 and 3, every point
    of the run otherwise). ``side``: above/below the centre line, or increasing/decreasing for
    Nelson's test 3; None for tests 4, 7 and 8, which have no side.
    """

    rule: Rule
    wording: str
    index: int
    label: Label
    value: float
    side: Side | None
    points: tuple[int, ...]


def control_limits_estimate(points: Sequence[Observation]) -> ControlLimits:
    """Centre line (mean) and sigma (average moving range / 1.128) from a KPI's history.

    A moving range is taken only between two consecutive periods that both have a value: across a
    missing period the two values are not neighbours in time.
    """
    series = series_check(points)
    values = series.floats()
    present = [v for v in values if v is not None]
    ranges = [abs(b - a) for a, b in itertools.pairwise(values) if a is not None and b is not None]
    if len(present) < 2 or not ranges:
        raise PactboardError(
            "Control limits need at least two values in consecutive periods: record more of the KPI's history.",
            details=[ErrorDetail("needs two consecutive values", "values", "too_short")],
        )
    return ControlLimits(
        centre=sum(present) / len(present),
        sigma=(sum(ranges) / len(ranges)) / D2,
        points=len(present),
        moving_ranges=len(ranges),
    )


def _beyond(limits: ControlLimits, k: float, side: Side) -> Callable[[float], bool]:
    """Whether a value is strictly past the line ``k`` sigmas out on ``side`` (k = 0: the centre line)."""
    if side == "above":
        line = limits.line(k)
        return lambda x: x > line
    line = limits.line(-k)
    return lambda x: x < line


def _k_of_m(
    rule: Rule, plotted: list[tuple[int, float]], limits: ControlLimits, *, k: int, m: int, sigmas: float
) -> list[tuple[Rule, int, Side | None, tuple[int, ...]]]:
    """At least ``k`` of ``m`` successive points beyond ``sigmas`` on one side, the last of them taking part.

    At the start of the series the window is shorter than ``m``; the ``k`` points found there lie
    within ``m`` successive points all the same.
    """
    found: list[tuple[Rule, int, Side | None, tuple[int, ...]]] = []
    for side in ("above", "below"):
        past = _beyond(limits, sigmas, side)
        for i in range(len(plotted)):
            if not past(plotted[i][1]):
                continue
            window = plotted[max(0, i - m + 1) : i + 1]
            hits = tuple(pos for pos, x in window if past(x))
            if len(hits) >= k:
                found.append((rule, i, side, hits))
    return found


def _runs(
    rule: Rule, plotted: list[tuple[int, float]], length: int, test: Callable[[list[float]], Side | bool | None]
) -> list[tuple[Rule, int, Side | None, tuple[int, ...]]]:
    """Every window of ``length`` successive points whose values pass ``test`` (False: no signal)."""
    found: list[tuple[Rule, int, Side | None, tuple[int, ...]]] = []
    for i in range(length - 1, len(plotted)):
        window = plotted[i - length + 1 : i + 1]
        outcome = test([x for _, x in window])
        if outcome is not False:
            side = outcome if isinstance(outcome, str) else None
            found.append((rule, i, side, tuple(pos for pos, _ in window)))
    return found


def _one_side(limits: ControlLimits) -> Callable[[list[float]], Side | bool]:
    def test(xs: list[float]) -> Side | bool:
        if all(x > limits.centre for x in xs):
            return "above"
        if all(x < limits.centre for x in xs):
            return "below"
        return False

    return test


def _steady(xs: list[float]) -> Side | bool:
    steps = [b - a for a, b in itertools.pairwise(xs)]
    if all(s > 0 for s in steps):
        return "increasing"
    if all(s < 0 for s in steps):
        return "decreasing"
    return False


def _alternating(xs: list[float]) -> bool | None:
    steps = [b - a for a, b in itertools.pairwise(xs)]
    if all(s != 0 for s in steps) and all((a > 0) != (b > 0) for a, b in itertools.pairwise(steps)):
        return None  # a signal without a side
    return False


def _hugging(limits: ControlLimits) -> Callable[[list[float]], bool | None]:
    # Within 1 sigma is the complement of "beyond 1 sigma": a point on the 1-sigma line is in zone C.
    def test(xs: list[float]) -> bool | None:
        return None if all(abs(x - limits.centre) <= limits.sigma for x in xs) else False

    return test


def _mixture(limits: ControlLimits) -> Callable[[list[float]], bool | None]:
    def test(xs: list[float]) -> bool | None:
        outside = all(abs(x - limits.centre) > limits.sigma for x in xs)
        both = any(x > limits.centre for x in xs) and any(x < limits.centre for x in xs)
        return None if outside and both else False

    return test


def control_signals(
    *, points: Sequence[Observation], limits: ControlLimits, rules: Sequence[Rule] = RULES
) -> tuple[ControlSignal, ...]:
    """Every signal of the chosen rules on the history, by position then by rule order."""
    unknown = [r for r in rules if r not in RULES]
    if unknown:
        raise PactboardError(
            f"Unknown control-chart rule {unknown[0]!r}: use one of {', '.join(RULES)}.",
            details=[ErrorDetail("is not a known rule", "rules", "unknown_rule")],
        )
    if not limits.sigma >= 0:
        raise PactboardError(
            "Control limits need a sigma of zero or more.",
            details=[ErrorDetail("must be zero or more", "sigma", "negative_sigma")],
        )
    series: Series = series_check(points)
    plotted = series.present()
    makers: dict[Rule, Callable[[], list[tuple[Rule, int, Side | None, tuple[int, ...]]]]] = {
        "we1": lambda: _k_of_m("we1", plotted, limits, k=1, m=1, sigmas=3),
        "we2": lambda: _k_of_m("we2", plotted, limits, k=2, m=3, sigmas=2),
        "we3": lambda: _k_of_m("we3", plotted, limits, k=4, m=5, sigmas=1),
        "we4": lambda: _runs("we4", plotted, 8, _one_side(limits)),
        "nelson3": lambda: _runs("nelson3", plotted, 6, _steady),
        "nelson4": lambda: _runs("nelson4", plotted, 14, _alternating),
        "nelson7": lambda: _runs("nelson7", plotted, 15, _hugging(limits)),
        "nelson8": lambda: _runs("nelson8", plotted, 8, _mixture(limits)),
    }
    order = {rule: n for n, rule in enumerate(RULES)}
    found = [hit for rule in dict.fromkeys(rules) for hit in makers[rule]()]
    found.sort(key=lambda hit: (hit[1], order[hit[0]]))
    signals = []
    for rule, i, side, hits in found:
        position, value = plotted[i]
        signals.append(
            ControlSignal(
                rule=rule,
                wording=RULE_WORDING[rule],
                index=position,
                label=series.labels[position],
                value=value,
                side=side,
                points=hits,
            )
        )
    return tuple(signals)


@dataclass(frozen=True, kw_only=True)
class Dips:
    """Special causes on the unfavourable side of a KPI's own chart (empty when the history is too short)."""

    direction: Direction
    limits: ControlLimits | None
    signals: tuple[ControlSignal, ...]
    reason: str  # plain words: what was checked, or why nothing could be

    def at(self, label: Label) -> tuple[ControlSignal, ...]:
        """The signals completed at the given period."""
        return tuple(s for s in self.signals if s.label == label)


def dips_find(*, points: Sequence[Observation], direction: Direction, limits: ControlLimits | None = None) -> Dips:
    """Values that are a special cause by Western Electric rules 1-4 on the unfavourable side only.

    Unfavourable: below the centre line for a higher-is-better KPI, above it for lower-is-better.
    Limits default to the estimate from the same history (``control_limits_estimate``).
    """
    if direction not in DIRECTIONS:
        raise PactboardError(
            f"Unknown KPI direction {direction!r}: use 'higher' or 'lower'.",
            details=[ErrorDetail("must be 'higher' or 'lower'", "direction", "invalid_direction")],
        )
    series = series_check(points)
    count = len(series.present())
    if limits is None and count < DIPS_MIN_POINTS:
        return Dips(
            direction=direction,
            limits=None,
            signals=(),
            reason=f"Not checked: {count} values, a control chart needs at least {DIPS_MIN_POINTS}.",
        )
    if limits is None:
        limits = control_limits_estimate(points)
    bad: Side = "below" if direction == "higher" else "above"
    signals = tuple(s for s in control_signals(points=points, limits=limits, rules=DIP_RULES) if s.side == bad)
    return Dips(
        direction=direction,
        limits=limits,
        signals=signals,
        reason=(
            f"Western Electric rules 1-4, {bad} the centre line {limits.centre:.6g} "
            f"(sigma {limits.sigma:.6g} from {limits.points} values)."
        ),
    )
