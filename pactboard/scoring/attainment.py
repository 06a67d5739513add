"""A KPI's terms, the target in force for a period, a value's status and its attainment.

Pure functions on ``Decimal`` values (never float); docs/scoring.md is the written definition
and the tests work its tables out by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Context, Decimal, DivisionByZero, InvalidOperation, Overflow, localcontext
from typing import Literal, get_args

from pactboard.core.errors import ErrorDetail, PactboardError

__all__ = [
    "ATTAINMENT_QUANTUM",
    "DEFAULT_CAP",
    "DIRECTIONS",
    "STATUSES",
    "Direction",
    "KpiTerms",
    "Milestone",
    "Status",
    "TargetInForce",
    "is_at_or_beyond",
    "kpi_attainment",
    "kpi_status",
    "kpi_terms_check",
    "target_in_force",
    "thresholds_check",
]

Direction = Literal["higher", "lower"]
DIRECTIONS: tuple[Direction, ...] = get_args(Direction)

Status = Literal["exceeded", "met", "at_risk", "missed", "no_data"]
# Best first; "no_data" last.
STATUSES: tuple[Status, ...] = get_args(Status)

# One KPI far above target must not hide another's miss: attainment is capped at 120 % by default.
DEFAULT_CAP = Decimal("1.2")
ATTAINMENT_QUANTUM = Decimal("0.0001")

# Wide enough that products and quotients of business figures are exact before the final
# quantize, so results do not depend on the caller's decimal context.
DECIMAL_CONTEXT = Context(prec=50, traps=[InvalidOperation, DivisionByZero, Overflow])

_DIRECTION_WORDS: dict[str, str] = {"higher": "a higher-is-better", "lower": "a lower-is-better"}


def _fmt(value: Decimal) -> str:
    return format(value, "f")


def is_at_or_beyond(*, direction: Direction, value: Decimal, level: Decimal) -> bool:
    """Whether ``value`` is at ``level`` or better than it in ``direction``."""
    return value >= level if direction == "higher" else value <= level


def _require_decimal(name: str, value: object, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__} (scoring never uses float)")


def _finite_problem(value: Decimal | None, location: str) -> ErrorDetail | None:
    if value is not None and not value.is_finite():
        return ErrorDetail("must be a finite number", location, "not_finite")
    return None


def _order_problems(
    *,
    direction: Direction,
    target: Decimal,
    amber: Decimal | None,
    stretch: Decimal | None,
    amber_location: str,
    stretch_location: str,
) -> list[ErrorDetail]:
    """Amber strictly worse than the target, stretch strictly better (both optional)."""
    problems: list[ErrorDetail] = []
    kind = _DIRECTION_WORDS[direction]
    worse, better = ("below", "above") if direction == "higher" else ("above", "below")
    if amber is not None and is_at_or_beyond(direction=direction, value=amber, level=target):
        problems.append(
            ErrorDetail(
                f"must be {worse} the target for {kind} KPI (amber {_fmt(amber)}, target {_fmt(target)})",
                amber_location,
                "amber_not_worse_than_target",
            )
        )
    if stretch is not None and is_at_or_beyond(direction=direction, value=target, level=stretch):
        problems.append(
            ErrorDetail(
                f"must be {better} the target for {kind} KPI (stretch {_fmt(stretch)}, target {_fmt(target)})",
                stretch_location,
                "stretch_not_better_than_target",
            )
        )
    return problems


def thresholds_check(
    *, direction: Direction, target: Decimal, amber: Decimal | None, stretch: Decimal | None
) -> list[ErrorDetail]:
    """Problems with a KPI's target and thresholds; empty when consistent.

    Locations are relative to the KPI ("target", "thresholds.amber", "thresholds.stretch"); a
    caller validating a list prefixes them (e.g. "kpis[3].").
    """
    if direction not in DIRECTIONS:
        return [ErrorDetail("must be 'higher' or 'lower'", "direction", "invalid_direction")]
    problems = [
        p
        for p in (
            _finite_problem(target, "target"),
            _finite_problem(amber, "thresholds.amber"),
            _finite_problem(stretch, "thresholds.stretch"),
        )
        if p is not None
    ]
    if problems:
        return problems
    return _order_problems(
        direction=direction,
        target=target,
        amber=amber,
        stretch=stretch,
        amber_location="thresholds.amber",
        stretch_location="thresholds.stretch",
    )


@dataclass(frozen=True, kw_only=True)
class Milestone:
    """An interim target that applies until its date has passed (see ``target_in_force``).

    Without its own ``amber`` (or ``stretch``), the milestone keeps the final thresholds' distance
    from the target.
    """

    date: dt.date
    target: Decimal
    amber: Decimal | None = None
    stretch: Decimal | None = None

    def __post_init__(self) -> None:
        if isinstance(self.date, dt.datetime) or not isinstance(self.date, dt.date):
            raise TypeError(f"Milestone.date must be a date, not {type(self.date).__name__}")
        _require_decimal("Milestone.target", self.target)
        _require_decimal("Milestone.amber", self.amber, optional=True)
        _require_decimal("Milestone.stretch", self.stretch, optional=True)


def kpi_terms_check(
    *,
    code: str,
    direction: Direction,
    target: Decimal,
    amber: Decimal | None,
    stretch: Decimal | None,
    weight: Decimal,
    milestones: Sequence[Milestone] = (),
    max_cap: Decimal = DEFAULT_CAP,
) -> list[ErrorDetail]:
    """Every problem with a KPI's scoring terms (thresholds, weight, cap, milestones); empty when consistent."""
    problems: list[ErrorDetail] = []
    if not isinstance(code, str) or not code.strip():
        problems.append(ErrorDetail("must not be empty", "code", "required"))
    problems.extend(thresholds_check(direction=direction, target=target, amber=amber, stretch=stretch))
    if not weight.is_finite() or weight <= 0:
        problems.append(ErrorDetail("must be a number above 0", "weight", "weight_not_positive"))
    if not max_cap.is_finite() or max_cap < 1:
        problems.append(
            ErrorDetail("must be at least 1 (100 %): a met KPI always attains 100 %", "max_cap", "cap_below_one")
        )
    if direction not in DIRECTIONS:
        return problems
    seen: set[dt.date] = set()
    for i, milestone in enumerate(milestones):
        where = f"milestones[{i}]"
        if milestone.date in seen:
            problems.append(ErrorDetail("another milestone has the same date", f"{where}.date", "duplicate_milestone"))
        seen.add(milestone.date)
        finite = [
            p
            for p in (
                _finite_problem(milestone.target, f"{where}.target"),
                _finite_problem(milestone.amber, f"{where}.amber"),
                _finite_problem(milestone.stretch, f"{where}.stretch"),
            )
            if p is not None
        ]
        problems.extend(finite)
        if not finite:
            problems.extend(
                _order_problems(
                    direction=direction,
                    target=milestone.target,
                    amber=milestone.amber,
                    stretch=milestone.stretch,
                    amber_location=f"{where}.amber",
                    stretch_location=f"{where}.stretch",
                )
            )
    return problems


@dataclass(frozen=True, kw_only=True)
class KpiTerms:
    """What a signed agreement says about scoring one KPI.

    Construction refuses inconsistent terms with a ``PactboardError`` listing every problem.
    Milestones are kept sorted by date.
    """

    code: str
    direction: Direction
    target: Decimal
    amber: Decimal | None = None
    stretch: Decimal | None = None
    weight: Decimal = Decimal(1)
    milestones: tuple[Milestone, ...] = field(default=())
    max_cap: Decimal = DEFAULT_CAP

    def __post_init__(self) -> None:
        _require_decimal("KpiTerms.target", self.target)
        _require_decimal("KpiTerms.amber", self.amber, optional=True)
        _require_decimal("KpiTerms.stretch", self.stretch, optional=True)
        _require_decimal("KpiTerms.weight", self.weight)
        _require_decimal("KpiTerms.max_cap", self.max_cap)
        for milestone in self.milestones:
            if not isinstance(milestone, Milestone):
                raise TypeError(f"KpiTerms.milestones must hold Milestone objects, not {type(milestone).__name__}")
        object.__setattr__(self, "milestones", tuple(sorted(self.milestones, key=lambda m: m.date)))
        problems = kpi_terms_check(
            code=self.code,
            direction=self.direction,
            target=self.target,
            amber=self.amber,
            stretch=self.stretch,
            weight=self.weight,
            milestones=self.milestones,
            max_cap=self.max_cap,
        )
        if problems:
            raise PactboardError(
                f"The scoring terms of KPI {self.code!r} are not consistent: correct the values listed.",
                details=problems,
            )


@dataclass(frozen=True, kw_only=True)
class TargetInForce:
    """The levels a period is judged against; ``milestone_date`` is None when the final target applies."""

    target: Decimal
    amber: Decimal | None
    stretch: Decimal | None
    milestone_date: dt.date | None


def target_in_force(*, terms: KpiTerms, period_last_day: dt.date) -> TargetInForce:
    """The target and thresholds in force for the period whose last (inclusive) day is given.

    The interim target of the earliest milestone dated on or after the period's last day; once
    every milestone date is before that day, the final target. A period that straddles a
    milestone date is therefore judged against the next milestone (or the final target).
    Pass ``period.last_day``, not the exclusive ``period.end``.
    """
    if isinstance(period_last_day, dt.datetime) or not isinstance(period_last_day, dt.date):
        raise TypeError("period_last_day must be a date (the period's last day, inclusive)")
    for milestone in terms.milestones:  # sorted by date
        if milestone.date >= period_last_day:
            with localcontext(DECIMAL_CONTEXT):
                amber = milestone.amber
                if amber is None and terms.amber is not None:
                    amber = milestone.target + (terms.amber - terms.target)
                stretch = milestone.stretch
                if stretch is None and terms.stretch is not None:
                    stretch = milestone.target + (terms.stretch - terms.target)
            return TargetInForce(target=milestone.target, amber=amber, stretch=stretch, milestone_date=milestone.date)
    return TargetInForce(target=terms.target, amber=terms.amber, stretch=terms.stretch, milestone_date=None)


def _check_value(value: Decimal | None) -> None:
    _require_decimal("value", value, optional=True)
    if value is not None and not value.is_finite():
        raise PactboardError(
            "A KPI value must be a finite number.",
            details=[ErrorDetail("must be a finite number", "value", "not_finite")],
        )


def _check_direction(direction: object) -> None:
    if direction not in DIRECTIONS:
        raise PactboardError(
            f"Unknown KPI direction {direction!r}: use 'higher' or 'lower'.",
            details=[ErrorDetail("must be 'higher' or 'lower'", "direction", "invalid_direction")],
        )


def kpi_status(
    *,
    direction: Direction,
    value: Decimal | None,
    target: Decimal,
    amber: Decimal | None = None,
    stretch: Decimal | None = None,
) -> Status:
    """exceeded / met / at_risk / missed for a value (no_data for None); a tie goes to the better status.

    Without a stretch nothing is "exceeded"; without an amber nothing is "at_risk".
    """
    _check_direction(direction)
    _check_value(value)
    if value is None:
        return "no_data"
    if stretch is not None and is_at_or_beyond(direction=direction, value=value, level=stretch):
        return "exceeded"
    if is_at_or_beyond(direction=direction, value=value, level=target):
        return "met"
    if amber is not None and is_at_or_beyond(direction=direction, value=value, level=amber):
        return "at_risk"
    return "missed"


def kpi_attainment(
    *, direction: Direction, value: Decimal | None, target: Decimal, cap: Decimal = DEFAULT_CAP
) -> Decimal | None:
    """How far the value reaches its target, as a ratio in [0, cap] (1 = exactly on target); None without data.

    Higher-is-better: value / target. Lower-is-better: target / value. The ratio is taken so that
    better always means larger, which also settles zero and negative values:

    - better means away from zero (higher with target > 0, lower with target < 0): value / target;
    - better means towards zero (lower with target > 0, higher with target < 0): target / value while
      the value has the target's sign; a value at or past zero is better than any such value: the cap;
    - target 0: 1 at the target, the cap when better, 0 when worse.

    The result is clamped to [0, cap] and rounded down to 4 places, so it is 1 or more exactly
    when the value is at or beyond the target.
    """
    _check_direction(direction)
    _check_value(value)
    _require_decimal("target", target)
    _require_decimal("cap", cap)
    if value is None:
        return None
    if not target.is_finite():
        raise PactboardError(
            "A KPI target must be a finite number.",
            details=[ErrorDetail("must be a finite number", "target", "not_finite")],
        )
    with localcontext(DECIMAL_CONTEXT):
        raw: Decimal
        if target == 0:
            if value == 0:
                raw = Decimal(1)
            elif is_at_or_beyond(direction=direction, value=value, level=target):
                raw = cap
            else:
                raw = Decimal(0)
        elif (direction == "higher") == (target > 0):
            raw = value / target
        elif (value > 0) == (target > 0) and value != 0:
            raw = target / value
        else:
            raw = cap
        # Below zero (or a negative zero such as 0 / -5) is zero.
        clamped = min(raw, cap) if raw > 0 else Decimal(0)
        return clamped.quantize(ATTAINMENT_QUANTUM, rounding=ROUND_FLOOR)
