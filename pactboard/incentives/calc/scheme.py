"""An incentive scheme as plain dataclasses: credit rules (bands or pool allocation), bonuses, caps, earn-back.

This is the one model of a scheme: the engagement YAML document and the Django models convert
to and from it. Building a ``Scheme`` checks it whole and refuses it with a ``PactboardError``
that lists every problem at its location (``credit_rules[2].bands[1].upper``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.incentives.calc.bands import Band, band_for, bands_check
from pactboard.incentives.calc.money import (
    DECIMAL_CONTEXT,
    MINOR_UNITS,
    ROUNDINGS,
    Amount,
    Rounding,
    amount_check,
    amount_is_zero,
    require_decimal,
)
from pactboard.scoring import DIRECTIONS, Direction, is_at_or_beyond

__all__ = [
    "BandRule",
    "BonusRule",
    "CreditRule",
    "EarnBack",
    "PerformanceCategory",
    "Pool",
    "PoolRule",
    "Scheme",
    "rule_defaulted",
    "scheme_check",
]


@dataclass(frozen=True, kw_only=True)
class BandRule:
    """A service credit by performance bands on one KPI's value (one band applies; tiers are not cumulative).

    ``critical``: a miss (a value in a band with a credit) also opens an action.
    ``exclusive_group``: of the rules sharing a group, only the largest credit is paid.
    ``minimum``: no credit when the line's amount is at or below it (else the scheme's minimum).
    """

    code: str
    kpi: str
    bands: Sequence[Band]  # kept as a tuple
    critical: bool = False
    exclusive_group: str | None = None
    minimum: Decimal | None = None
    earn_back: bool = True
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "bands", tuple(self.bands))
        require_decimal("BandRule.minimum", self.minimum, optional=True)


@dataclass(frozen=True, kw_only=True)
class PerformanceCategory:
    """A group of service levels with its "Allocation of Pool Percentage" (A, in percentage points)."""

    name: str
    allocation_percent: Decimal

    def __post_init__(self) -> None:
        require_decimal("PerformanceCategory.allocation_percent", self.allocation_percent)


@dataclass(frozen=True, kw_only=True)
class Pool:
    """The at-risk pool: "At-Risk Amount" = ``at_risk_percent`` of the month's ``base`` (the invoice amount).

    ``pool_percent_available``: the "Pool Percentage Available for Allocation"; the rules' credit
    allocation percentages may not sum above it (it may itself exceed 100). None: no such limit.
    """

    at_risk_percent: Decimal
    base: str
    categories: Sequence[PerformanceCategory]  # kept as a tuple
    pool_percent_available: Decimal | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", tuple(self.categories))
        require_decimal("Pool.at_risk_percent", self.at_risk_percent)
        require_decimal("Pool.pool_percent_available", self.pool_percent_available, optional=True)

    def category(self, name: str) -> PerformanceCategory | None:
        return next((c for c in self.categories if c.name == name), None)


@dataclass(frozen=True, kw_only=True)
class PoolRule:
    """A service level under the pool: missed when the value is not at or beyond ``level``.

    Credit = A (the category's allocation of pool percentage) × B (``credit_allocation_percent``)
    × the at-risk amount.
    """

    code: str
    kpi: str
    direction: Direction
    level: Decimal
    category: str
    credit_allocation_percent: Decimal
    critical: bool = True
    exclusive_group: str | None = None
    minimum: Decimal | None = None
    earn_back: bool = True
    label: str = ""

    def __post_init__(self) -> None:
        require_decimal("PoolRule.level", self.level)
        require_decimal("PoolRule.credit_allocation_percent", self.credit_allocation_percent)
        require_decimal("PoolRule.minimum", self.minimum, optional=True)


CreditRule = BandRule | PoolRule


@dataclass(frozen=True, kw_only=True)
class BonusRule:
    """A bonus by bands on one KPI's value, for exceeding its target (one band applies)."""

    code: str
    kpi: str
    bands: Sequence[Band]  # kept as a tuple
    exclusive_group: str | None = None
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "bands", tuple(self.bands))


@dataclass(frozen=True, kw_only=True)
class EarnBack:
    """A credit is waived when its rule is met in each of the next ``periods`` periods.

    Unless the miss is part of a chronic run: ``chronic_misses`` misses within the last
    ``chronic_window`` periods (this one included); such a credit is due at once.
    """

    periods: int
    chronic_misses: int | None = None
    chronic_window: int | None = None


@dataclass(frozen=True, kw_only=True)
class Scheme:
    """An engagement's incentive scheme. Rule order matters: caps are filled in this order."""

    currency: str
    credit_rules: Sequence[CreditRule] = ()  # kept as a tuple
    bonus_rules: Sequence[BonusRule] = ()
    pool: Pool | None = None
    credit_cap: Amount | None = None
    bonus_cap: Amount | None = None
    credit_minimum: Decimal | None = None
    earn_back: EarnBack | None = None
    rounding: Rounding = "half_up"
    minor_unit: int | None = None  # defaults to the currency's ISO 4217 minor unit
    code: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "credit_rules", tuple(self.credit_rules))
        object.__setattr__(self, "bonus_rules", tuple(self.bonus_rules))
        require_decimal("Scheme.credit_minimum", self.credit_minimum, optional=True)
        problems = scheme_check(self)
        if problems:
            raise PactboardError(
                f"The incentive scheme {self.code or self.currency!r} is not consistent: correct the terms listed.",
                details=problems,
            )
        if self.minor_unit is None:
            object.__setattr__(self, "minor_unit", MINOR_UNITS[self.currency])

    @property
    def digits(self) -> int:
        assert self.minor_unit is not None  # set by __post_init__
        return self.minor_unit

    def kpis(self) -> list[str]:
        """Every KPI code the scheme reads, in rule order, once each."""
        seen: dict[str, None] = {}
        for rule in (*self.credit_rules, *self.bonus_rules):
            seen.setdefault(rule.kpi, None)
        return list(seen)


def _text_problem(value: object, location: str) -> ErrorDetail | None:
    if not isinstance(value, str) or not value.strip():
        return ErrorDetail("must not be empty", location, "required")
    return None


def _non_negative(value: Decimal | None, location: str) -> ErrorDetail | None:
    if value is not None and (not value.is_finite() or value < 0):
        return ErrorDetail("must be a number of at least 0", location, "invalid_amount")
    return None


def _pool_problems(scheme: Scheme) -> list[ErrorDetail]:
    pool = scheme.pool
    if pool is None:
        return []
    problems = [
        p
        for p in (
            _non_negative(pool.at_risk_percent, "pool.at_risk_percent"),
            _non_negative(pool.pool_percent_available, "pool.pool_percent_available"),
            _text_problem(pool.base, "pool.base"),
        )
        if p is not None
    ]
    names: set[str] = set()
    for i, category in enumerate(pool.categories):
        where = f"pool.categories[{i}]"
        if category.name in names:
            problems.append(ErrorDetail("another category has the same name", f"{where}.name", "duplicate"))
        names.add(category.name)
        problem = _non_negative(category.allocation_percent, f"{where}.allocation_percent")
        if problem:
            problems.append(problem)
    return problems


def _rule_problems(scheme: Scheme, rule: CreditRule | BonusRule, where: str) -> list[ErrorDetail]:
    problems = [p for p in (_text_problem(rule.code, f"{where}.code"), _text_problem(rule.kpi, f"{where}.kpi")) if p]
    if isinstance(rule, BandRule | BonusRule):
        problems.extend(bands_check(rule.bands, location=f"{where}.bands"))
    if isinstance(rule, BandRule | PoolRule):
        problem = _non_negative(rule.minimum, f"{where}.minimum")
        if problem:
            problems.append(problem)
    if isinstance(rule, PoolRule):
        if rule.direction not in DIRECTIONS:
            problems.append(ErrorDetail("must be 'higher' or 'lower'", f"{where}.direction", "invalid_direction"))
        if not rule.level.is_finite():
            problems.append(ErrorDetail("must be a finite number", f"{where}.level", "not_finite"))
        problem = _non_negative(rule.credit_allocation_percent, f"{where}.credit_allocation_percent")
        if problem:
            problems.append(problem)
        if scheme.pool is None:
            problems.append(
                ErrorDetail("is a pool rule but the scheme has no pool: state the pool", where, "pool_missing")
            )
        elif scheme.pool.category(rule.category) is None:
            known = ", ".join(c.name for c in scheme.pool.categories) or "none"
            problems.append(
                ErrorDetail(f"names no category of the pool (known: {known})", f"{where}.category", "unknown")
            )
    return problems


def scheme_check(scheme: Scheme) -> list[ErrorDetail]:
    """Every problem with a scheme's terms; empty when consistent."""
    problems: list[ErrorDetail] = []
    if scheme.minor_unit is None and scheme.currency not in MINOR_UNITS:
        problems.append(
            ErrorDetail(
                "is not a currency Pactboard knows the minor unit of: state minor_unit (the digits after the point)",
                "currency",
                "unknown_currency",
            )
        )
    if scheme.minor_unit is not None and (
        not isinstance(scheme.minor_unit, int) or isinstance(scheme.minor_unit, bool) or not 0 <= scheme.minor_unit <= 4
    ):
        problems.append(ErrorDetail("must be a whole number from 0 to 4", "minor_unit", "invalid_minor_unit"))
    if scheme.rounding not in ROUNDINGS:
        problems.append(ErrorDetail(f"must be one of {', '.join(ROUNDINGS)}", "rounding", "invalid_rounding"))
    for name in ("credit_cap", "bonus_cap"):
        cap = getattr(scheme, name)
        if cap is not None:
            problems.extend(amount_check(cap, name))
    problem = _non_negative(scheme.credit_minimum, "credit_minimum")
    if problem:
        problems.append(problem)
    problems.extend(_pool_problems(scheme))
    codes: set[str] = set()
    for kind, rules in (("credit_rules", scheme.credit_rules), ("bonus_rules", scheme.bonus_rules)):
        for i, rule in enumerate(rules):
            where = f"{kind}[{i}]"
            expected = (BandRule, PoolRule) if kind == "credit_rules" else (BonusRule,)
            if not isinstance(rule, expected):
                problems.append(ErrorDetail(f"must be a {' or '.join(t.__name__ for t in expected)}", where, "invalid"))
                continue
            if rule.code in codes:
                problems.append(ErrorDetail("another rule has the same code", f"{where}.code", "duplicate"))
            codes.add(rule.code)
            problems.extend(_rule_problems(scheme, rule, where))
    pool_rules = [r for r in scheme.credit_rules if isinstance(r, PoolRule)]
    available = scheme.pool.pool_percent_available if scheme.pool is not None else None
    if available is not None and pool_rules and available.is_finite():
        with localcontext(DECIMAL_CONTEXT):
            total = sum((r.credit_allocation_percent for r in pool_rules), Decimal(0))
        if total > available:
            problems.append(
                ErrorDetail(
                    f"the credit allocation percentages of the pool rules sum to {format(total, 'f')} %, above the "
                    f"pool percentage available for allocation ({format(available, 'f')} %): lower some allocations",
                    "pool.pool_percent_available",
                    "pool_over_allocated",
                )
            )
    if scheme.earn_back is not None:
        problems.extend(_earn_back_problems(scheme.earn_back))
    return problems


def _earn_back_problems(terms: EarnBack) -> list[ErrorDetail]:
    def whole(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 1

    problems = []
    if not whole(terms.periods):
        problems.append(ErrorDetail("must be a whole number of at least 1", "earn_back.periods", "invalid"))
    if (terms.chronic_misses is None) != (terms.chronic_window is None):
        problems.append(
            ErrorDetail("state both chronic_misses and chronic_window, or neither", "earn_back", "chronic_incomplete")
        )
    elif terms.chronic_misses is not None:
        if not whole(terms.chronic_misses) or not whole(terms.chronic_window):
            problems.append(ErrorDetail("must be whole numbers of at least 1", "earn_back.chronic_misses", "invalid"))
        elif terms.chronic_misses > terms.chronic_window:  # type: ignore[operator]
            problems.append(
                ErrorDetail(
                    "cannot be more than chronic_window (the misses are counted within it)",
                    "earn_back.chronic_misses",
                    "invalid",
                )
            )
    return problems


def rule_defaulted(rule: CreditRule, value: Decimal | None) -> bool | None:
    """Whether a value misses the rule (a credit band, or short of the pool level); None without a value."""
    if value is None:
        return None
    if isinstance(rule, PoolRule):
        return not is_at_or_beyond(direction=rule.direction, value=value, level=rule.level)
    return not amount_is_zero(rule.bands[band_for(rule.bands, value)].amount)
