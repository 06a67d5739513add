"""A period's settlement: one line per rule with the numbers behind it, caps, minimums, earn-back, adjustments.

Pure: the scheme, the period's KPI values and fee bases, the KPI values of the periods before
and after it (for chronic runs and earn-back) and corrections of earlier final periods go in; a
``Statement`` comes out. Nothing is stored, so a what-if is this function called with changed
values and a backtest is it called period by period. docs/incentives.md is the definition.

Order of work for credits, each line rounded once to the currency's minor unit:
1. the rule's amount (band or pool formula), rounded once → ``computed``;
2. the minimum: at or below it, nothing;
3. exclusive groups: only the largest credit of a group is paid (the first rule on a tie);
4. the pool: credits under the pool fill the at-risk amount in rule order, never beyond it;
5. the monthly cap: all credits fill the cap in rule order, never beyond it;
6. earn-back: each remaining credit is ``due``, ``pending`` or ``waived``.
Bonuses: band amount, exclusive groups, then the bonus cap in rule order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, localcontext
from typing import Literal

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.incentives.calc.bands import band_for
from pactboard.incentives.calc.money import (
    DECIMAL_CONTEXT,
    HUNDRED,
    Amount,
    Fixed,
    amount_is_zero,
    amount_raw,
    fee_base,
    money_quantum,
    money_round,
    require_decimal,
)
from pactboard.incentives.calc.scheme import BandRule, BonusRule, CreditRule, PoolRule, Scheme, rule_defaulted

__all__ = [
    "ActionRequest",
    "Correction",
    "EarnBackStatus",
    "KpiValues",
    "Line",
    "LineKind",
    "PeriodFigures",
    "Statement",
    "settlement_compute",
]

KpiValues = Mapping[str, Decimal | None]
EarnBackStatus = Literal["none", "pending", "waived", "due"]
LineKind = Literal["credit", "bonus", "adjustment"]

ZERO = Decimal(0)


def _fmt(value: Decimal) -> str:
    return format(value, "f")


@dataclass(frozen=True, kw_only=True)
class PeriodFigures:
    """What a period brings to its settlement: KPI values (None: no data) and fee bases (monthly fee, invoices)."""

    period: str
    values: KpiValues
    fee_bases: Mapping[str, Decimal]


@dataclass(frozen=True, kw_only=True)
class Correction:
    """A change to an earlier period after its settlement was final: its net as settled and as corrected."""

    period: str
    final_net: Decimal
    corrected_net: Decimal
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class ActionRequest:
    """A critical service level was missed: an action is to be opened (by governance)."""

    rule: str
    kpi: str
    period: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class Line:
    """One rule applied (or one correction), with every number behind its amount.

    ``computed`` is the rule's amount rounded once; ``amount`` is what remains after the minimum,
    the exclusive group and the caps (never rounded again). Credits and bonuses are positive;
    an adjustment is signed (positive: owed to the provider).
    """

    kind: LineKind
    rule: str
    kpi: str | None = None
    value: Decimal | None = None
    band: str | None = None
    base: str | None = None
    base_amount: Decimal | None = None
    percent: Decimal | None = None
    fixed: Decimal | None = None
    allocation_percent: Decimal | None = None  # A: the category's allocation of pool percentage
    credit_allocation_percent: Decimal | None = None  # B: the service level's credit allocation
    at_risk_amount: Decimal | None = None
    minimum: Decimal | None = None
    cap: Decimal | None = None  # the cap that limited this line, if one did
    missed: bool = False
    critical: bool = False
    computed: Decimal = ZERO
    amount: Decimal = ZERO
    earn_back: EarnBackStatus = "none"
    explanation: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Statement:
    """A period's settlement in the scheme's currency. ``net`` = bonuses − credits due; ``payable`` adds adjustments."""

    period: str
    currency: str
    lines: tuple[Line, ...]
    credits_assessed: Decimal
    credits_due: Decimal
    credits_pending: Decimal
    credits_waived: Decimal
    bonuses: Decimal
    net: Decimal
    adjustments: Decimal
    payable: Decimal
    credit_cap: Decimal | None
    bonus_cap: Decimal | None
    at_risk_amount: Decimal | None
    actions: tuple[ActionRequest, ...]

    def line(self, rule: str) -> Line:
        """The line of a rule (or of the adjustment ``adjustment:<period>``)."""
        for line in self.lines:
            if line.rule == rule:
                return line
        raise KeyError(rule)


def _check_figures(figures: PeriodFigures, location: str) -> None:
    for code, value in figures.values.items():
        require_decimal(f"{location}.values[{code!r}]", value, optional=True)
        if value is not None and not value.is_finite():
            raise PactboardError(
                f"The value of KPI {code!r} for {figures.period} is not a finite number: correct it.",
                details=[ErrorDetail("must be a finite number", f"{location}.values.{code}", "not_finite")],
            )
    for name, amount in figures.fee_bases.items():
        require_decimal(f"{location}.fee_bases[{name!r}]", amount)
        if not amount.is_finite() or amount < 0:
            raise PactboardError(
                f"The fee base {name!r} for {figures.period} must be an amount of at least 0.",
                details=[ErrorDetail("must be an amount of at least 0", f"{location}.fee_bases.{name}", "invalid")],
            )


class _Money:
    """Rounding bound to one scheme."""

    def __init__(self, scheme: Scheme) -> None:
        self.digits = scheme.digits
        self.rounding = scheme.rounding

    def __call__(self, amount: Decimal) -> Decimal:
        return money_round(amount, minor_unit=self.digits, rounding=self.rounding)


def _band_line(rule: BandRule | BonusRule, figures: PeriodFigures, money: _Money, kind: LineKind) -> Line:
    value = figures.values.get(rule.kpi)
    line = Line(kind=kind, rule=rule.code, kpi=rule.kpi, value=value)
    if value is None:
        return _note(line, f"no value of {rule.kpi} for {figures.period}: nothing computed")
    band = rule.bands[band_for(rule.bands, value)]
    line = replace(line, band=band.describe())
    spec = band.amount
    if spec is None:
        return _note(line, f"{_fmt(value)} is in band {band.describe()}: nothing")
    raw = amount_raw(spec, fee_bases=figures.fee_bases, period=figures.period, needed_by=f"Rule {rule.code!r}")
    computed = money(raw)
    line = _note(
        line,
        f"{_fmt(value)} is in band {band.describe()}: {spec.describe()}",
        missed=kind == "credit" and not amount_is_zero(spec),
        computed=computed,
        amount=computed,
    )
    if isinstance(spec, Fixed):
        return replace(line, fixed=spec.amount)
    base_amount = figures.fee_bases[spec.base]
    return _note(
        line,
        f"{_fmt(spec.percent)} % × {_fmt(base_amount)} = {_fmt(raw)} → {_fmt(computed)}",
        base=spec.base,
        base_amount=base_amount,
        percent=spec.percent,
    )


def _at_risk_raw(scheme: Scheme, figures: PeriodFigures) -> Decimal | None:
    if scheme.pool is None:
        return None
    pool = scheme.pool
    base = fee_base(figures.fee_bases, pool.base, period=figures.period, needed_by="The pool's at-risk amount")
    with localcontext(DECIMAL_CONTEXT):
        return base * pool.at_risk_percent / HUNDRED


def _pool_line(rule: PoolRule, scheme: Scheme, figures: PeriodFigures, at_risk: Decimal, money: _Money) -> Line:
    pool = scheme.pool
    assert pool is not None
    category = pool.category(rule.category)
    assert category is not None  # checked with the scheme
    value = figures.values.get(rule.kpi)
    word = "at least" if rule.direction == "higher" else "at most"
    line = Line(
        kind="credit",
        rule=rule.code,
        kpi=rule.kpi,
        value=value,
        critical=rule.critical,
        allocation_percent=category.allocation_percent,
        credit_allocation_percent=rule.credit_allocation_percent,
        at_risk_amount=money(at_risk),
        base=pool.base,
        base_amount=figures.fee_bases[pool.base],
    )
    if value is None:
        return _note(line, f"no value of {rule.kpi} for {figures.period}: nothing computed")
    if not rule_defaulted(rule, value):
        return _note(line, f"{_fmt(value)} meets the level ({word} {_fmt(rule.level)})")
    with localcontext(DECIMAL_CONTEXT):
        raw = category.allocation_percent / HUNDRED * rule.credit_allocation_percent / HUNDRED * at_risk
    computed = money(raw)
    line = _note(line, f"{_fmt(value)} misses the level ({word} {_fmt(rule.level)}): a service level default")
    return _note(
        line,
        f"{_fmt(category.allocation_percent)} % (category {category.name}) × {_fmt(rule.credit_allocation_percent)} % "
        f"× at-risk {_fmt(at_risk)} = {_fmt(raw)} → {_fmt(computed)}",
        missed=True,
        computed=computed,
        amount=computed,
    )


def _note(line: Line, text: str, **changes: object) -> Line:
    return replace(line, explanation=(*line.explanation, text), **changes)  # type: ignore[arg-type]


def _apply_minimum(lines: list[Line], rules: Sequence[CreditRule], scheme: Scheme) -> list[Line]:
    out = []
    for line, rule in zip(lines, rules, strict=True):
        minimum = rule.minimum if rule.minimum is not None else scheme.credit_minimum
        if minimum is None:
            out.append(line)
            continue
        line = replace(line, minimum=minimum)
        if 0 < line.amount <= minimum:
            text = f"{_fmt(line.amount)} is at or below the minimum {_fmt(minimum)}: no credit"
            line = _note(line, text, amount=ZERO)
        out.append(line)
    return out


def _apply_exclusive(lines: list[Line], groups: Sequence[str | None]) -> list[Line]:
    best: dict[str, int] = {}
    for i, (line, group) in enumerate(zip(lines, groups, strict=True)):
        if group is not None and line.amount > 0 and (group not in best or line.amount > lines[best[group]].amount):
            best[group] = i
    out = []
    for i, (line, group) in enumerate(zip(lines, groups, strict=True)):
        if group is not None and group in best and best[group] != i and line.amount > 0:
            winner = lines[best[group]]
            line = _note(
                line,
                f"exclusive group {group}: only the largest is paid ({winner.rule}: {_fmt(winner.amount)})",
                amount=ZERO,
            )
        out.append(line)
    return out


def _apply_cap(lines: list[Line], selected: Sequence[bool], cap: Decimal, what: str) -> list[Line]:
    """Selected lines fill ``cap`` in order; each keeps what still fits (its amount is never rounded again)."""
    room = cap
    out = []
    for line, chosen in zip(lines, selected, strict=True):
        if chosen and line.amount > 0:
            if line.amount > room:
                text = f"{what} {_fmt(cap)} reached: {_fmt(room)} of {_fmt(line.amount)}"
                line = _note(line, text, amount=room, cap=cap)
            room -= line.amount
        out.append(line)
    return out


def _earn_back(
    rule: CreditRule, scheme: Scheme, value_missed: bool, before: Sequence[KpiValues], after: Sequence[KpiValues]
) -> tuple[EarnBackStatus, str]:
    terms = scheme.earn_back
    assert terms is not None
    if terms.chronic_misses is not None and terms.chronic_window is not None:
        window = before[max(0, len(before) - (terms.chronic_window - 1)) :] if terms.chronic_window > 1 else ()
        misses = int(value_missed) + sum(1 for v in window if rule_defaulted(rule, v.get(rule.kpi)))
        if misses >= terms.chronic_misses:
            return "due", (
                f"earn-back: not eligible, {misses} misses within the last {terms.chronic_window} periods "
                f"is a chronic run (from {terms.chronic_misses})"
            )
    for i, values in enumerate(after[: terms.periods], start=1):
        again = rule_defaulted(rule, values.get(rule.kpi))
        if again is None or again:
            why = "no value" if again is None else "missed again"
            return "due", f"earn-back: due, period +{i} of {terms.periods} {why}"
    if len(after) >= terms.periods:
        return "waived", f"earn-back: waived, the level was met in the next {terms.periods} periods"
    return "pending", f"earn-back: pending, met in {len(after)} of the next {terms.periods} periods so far"


def _cap_amount(cap: Amount, figures: PeriodFigures, money: _Money, what: str) -> Decimal:
    return money(amount_raw(cap, fee_bases=figures.fee_bases, period=figures.period, needed_by=what))


def _credit_lines(
    scheme: Scheme, figures: PeriodFigures, before: Sequence[KpiValues], after: Sequence[KpiValues], money: _Money
) -> tuple[list[Line], Decimal | None, Decimal | None]:
    at_risk = _at_risk_raw(scheme, figures) if any(isinstance(r, PoolRule) for r in scheme.credit_rules) else None
    rules = scheme.credit_rules
    lines: list[Line] = []
    for rule in rules:
        if isinstance(rule, PoolRule):
            assert at_risk is not None
            lines.append(_pool_line(rule, scheme, figures, at_risk, money))
        else:
            line = _band_line(rule, figures, money, "credit")
            lines.append(replace(line, critical=rule.critical))
    lines = _apply_minimum(lines, rules, scheme)
    lines = _apply_exclusive(lines, [r.exclusive_group for r in rules])
    at_risk_cap = money(at_risk) if at_risk is not None else None
    if at_risk_cap is not None:
        lines = _apply_cap(lines, [isinstance(r, PoolRule) for r in rules], at_risk_cap, "at-risk amount")
    credit_cap = None
    if scheme.credit_cap is not None:
        credit_cap = _cap_amount(scheme.credit_cap, figures, money, "The credit cap")
        lines = _apply_cap(lines, [True] * len(lines), credit_cap, "credit cap")
    if scheme.earn_back is not None:
        for i, rule in enumerate(rules):
            if lines[i].amount > 0 and rule.earn_back:
                status, why = _earn_back(rule, scheme, lines[i].missed, before, after)
                lines[i] = _note(lines[i], why, earn_back=status)
    lines = [line if line.amount == 0 or line.earn_back != "none" else replace(line, earn_back="due") for line in lines]
    return lines, credit_cap, at_risk_cap


def _bonus_lines(scheme: Scheme, figures: PeriodFigures, money: _Money) -> tuple[list[Line], Decimal | None]:
    lines = [_band_line(rule, figures, money, "bonus") for rule in scheme.bonus_rules]
    lines = _apply_exclusive(lines, [r.exclusive_group for r in scheme.bonus_rules])
    cap = None
    if scheme.bonus_cap is not None:
        cap = _cap_amount(scheme.bonus_cap, figures, money, "The bonus cap")
        lines = _apply_cap(lines, [True] * len(lines), cap, "bonus cap")
    return lines, cap


def _adjustment_lines(scheme: Scheme, period: str, corrections: Sequence[Correction]) -> list[Line]:
    quantum = money_quantum(scheme.digits)
    seen: set[str] = set()
    lines = []
    for i, correction in enumerate(corrections):
        where = f"corrections[{i}]"
        require_decimal(f"{where}.final_net", correction.final_net)
        require_decimal(f"{where}.corrected_net", correction.corrected_net)
        if correction.period in seen or correction.period == period:
            why = "is corrected twice: give its latest figures once" if correction.period in seen else "is this period"
            raise PactboardError(
                f"The correction of {correction.period} {why}.",
                details=[ErrorDetail(why, f"{where}.period", "invalid_correction")],
            )
        seen.add(correction.period)
        for name in ("final_net", "corrected_net"):
            amount: Decimal = getattr(correction, name)
            if not amount.is_finite() or amount % quantum != 0:
                raise PactboardError(
                    f"The correction of {correction.period}: {name} {amount} is not an amount in {scheme.currency} "
                    f"(whole {_fmt(quantum)}); give the settled figures.",
                    details=[ErrorDetail(f"must be a multiple of {_fmt(quantum)}", f"{where}.{name}", "invalid")],
                )
        # Both are whole minor units (checked above): the quantize only writes the difference as 0.00.
        delta = (correction.corrected_net - correction.final_net).quantize(quantum) + 0
        reason = f" ({correction.reason})" if correction.reason else ""
        lines.append(
            Line(
                kind="adjustment", rule=f"adjustment:{correction.period}", computed=delta, amount=delta,
                explanation=(
                    f"correction of {correction.period} after final{reason}: net {_fmt(correction.final_net)} "
                    f"→ {_fmt(correction.corrected_net)}, adjustment {_fmt(delta)}",
                ),
            )
        )  # fmt: skip
    return lines


def settlement_compute(
    *,
    scheme: Scheme,
    figures: PeriodFigures,
    before: Sequence[KpiValues] = (),
    after: Sequence[KpiValues] = (),
    corrections: Sequence[Correction] = (),
) -> Statement:
    """The settlement of one period.

    ``before``: KPI values of the earlier periods, oldest first (chronic runs); ``after``: of the
    later periods known so far, in order (earn-back). ``corrections``: earlier final periods whose
    net changed; each becomes exactly one adjustment line.
    """
    # Every sum and difference at full width, whatever decimal context the caller runs in.
    with localcontext(DECIMAL_CONTEXT):
        return _settle(scheme=scheme, figures=figures, before=before, after=after, corrections=corrections)


def _settle(
    *,
    scheme: Scheme,
    figures: PeriodFigures,
    before: Sequence[KpiValues],
    after: Sequence[KpiValues],
    corrections: Sequence[Correction],
) -> Statement:
    _check_figures(figures, "figures")
    money = _Money(scheme)
    credit_lines, credit_cap, at_risk = _credit_lines(scheme, figures, before, after, money)
    bonus_lines, bonus_cap = _bonus_lines(scheme, figures, money)
    # Lines that give nothing show a zero in the currency's minor unit too (0.00, not 0); every
    # other amount is already rounded, so this changes no value.
    credit_lines = [replace(x, computed=money(x.computed), amount=money(x.amount)) for x in credit_lines]
    bonus_lines = [replace(x, computed=money(x.computed), amount=money(x.amount)) for x in bonus_lines]
    adjustments = _adjustment_lines(scheme, figures.period, corrections)
    actions = tuple(
        ActionRequest(
            rule=line.rule,
            kpi=line.kpi or "",
            period=figures.period,
            reason=f"critical service level missed: {line.explanation[0]}",
        )
        for line, rule in zip(credit_lines, scheme.credit_rules, strict=True)
        if rule.critical and rule_defaulted(rule, line.value)
    )

    def total(lines: Sequence[Line], status: EarnBackStatus | None = None) -> Decimal:
        return money(sum((x.amount for x in lines if status is None or x.earn_back == status), ZERO))

    credits_due = total(credit_lines, "due")
    bonuses = total(bonus_lines)
    net = bonuses - credits_due
    adjusted = total(adjustments)
    return Statement(
        period=figures.period,
        currency=scheme.currency,
        lines=(*credit_lines, *bonus_lines, *adjustments),
        credits_assessed=total(credit_lines),
        credits_due=credits_due,
        credits_pending=total(credit_lines, "pending"),
        credits_waived=total(credit_lines, "waived"),
        bonuses=bonuses,
        net=net,
        adjustments=adjusted,
        payable=money(net + adjusted),
        credit_cap=credit_cap,
        bonus_cap=bonus_cap,
        at_risk_amount=at_risk,
        actions=actions,
    )
