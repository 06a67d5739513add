"""An incentive scheme as the JSON an agreement version stores and signs, to and from the calc's dataclasses.

Pure. The JSON is canonical: decimals are plain strings ("12.5", never floats or exponents), keys
are fixed, optional terms are left out, so the same scheme always hashes the same way. Reading
checks the whole document and names every problem at its place (``credit_rules[1].bands[0].amount``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.incentives.calc.bands import Band, Edge
from pactboard.incentives.calc.money import MINOR_UNITS, Amount, Fixed, PercentOf
from pactboard.incentives.calc.renewal import RenewalRule
from pactboard.incentives.calc.scheme import (
    BandRule,
    BonusRule,
    CreditRule,
    EarnBack,
    PerformanceCategory,
    Pool,
    PoolRule,
    Scheme,
)

__all__ = ["SchemeTerms", "scheme_from_json", "scheme_to_json"]


@dataclass(frozen=True, kw_only=True)
class SchemeTerms:
    """A stored scheme: the rules, the agreed fee amounts its rules name, and the renewal rule."""

    scheme: Scheme
    fee_bases: Mapping[str, Decimal] = field(default_factory=dict)  # besides the engagement's monthly_fee
    renewal: RenewalRule | None = None


def _text(value: Decimal) -> str:
    normal = value.normalize()
    text = format(normal, "f")
    return "0" if text in {"-0", ""} else text


class _Reader:
    """Collects every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[ErrorDetail] = []

    def fail(self, where: str, message: str, code: str = "invalid") -> None:
        self.problems.append(ErrorDetail(message, where, code))

    def obj(self, data: object, where: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail(where, "must be an object")
            return {}
        return data

    def decimal(self, data: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> Decimal | None:
        raw = data.get(key)
        if raw is None:
            if required:
                self.fail(f"{where}.{key}" if where else key, "is required", "required")
            return None
        # Text, whole numbers or Decimals (the YAML document's loader) only: a float has already lost
        # the written amount.
        if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
            self.fail(f"{where}.{key}" if where else key, 'must be a number written as text, e.g. "12.5"')
            return None
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            self.fail(f"{where}.{key}" if where else key, f"{raw!r} is not a number")
            return None
        if not value.is_finite():
            self.fail(f"{where}.{key}" if where else key, "must be a finite number")
            return None
        return value

    def amount(self, data: object, where: str) -> Amount | None:
        if data is None:
            return None
        spec = self.obj(data, where)
        if "percent" in spec:
            percent = self.decimal(spec, "percent", where)
            base = spec.get("base")
            if not isinstance(base, str) or not base:
                self.fail(f"{where}.base", "must name a fee base (e.g. monthly_fee)", "required")
                return None
            return PercentOf(percent=percent, base=base) if percent is not None else None
        if "fixed" in spec:
            amount = self.decimal(spec, "fixed", where)
            return Fixed(amount=amount) if amount is not None else None
        self.fail(where, 'must be {"percent": ..., "base": ...} or {"fixed": ...}')
        return None

    def edge(self, data: object, where: str) -> Edge | None:
        if data is None:
            return None
        spec = self.obj(data, where)
        value = self.decimal(spec, "value", where)
        inclusive = spec.get("inclusive")
        if not isinstance(inclusive, bool):
            self.fail(f"{where}.inclusive", "must be true or false", "required")
            return None
        return Edge(value=value, inclusive=inclusive) if value is not None else None

    def bands(self, data: object, where: str) -> list[Band]:
        if not isinstance(data, list) or not data:
            self.fail(where, "must list at least one band", "required")
            return []
        out = []
        for i, raw in enumerate(data):
            spec = self.obj(raw, f"{where}[{i}]")
            out.append(
                Band(
                    lower=self.edge(spec.get("lower"), f"{where}[{i}].lower"),
                    upper=self.edge(spec.get("upper"), f"{where}[{i}].upper"),
                    amount=self.amount(spec.get("amount"), f"{where}[{i}].amount"),
                    label=str(spec.get("label") or ""),
                )
            )
        return out

    def common(self, spec: Mapping[str, Any], where: str) -> dict[str, Any]:
        out: dict[str, Any] = {"code": str(spec.get("code") or ""), "kpi": str(spec.get("kpi") or "")}
        if spec.get("exclusive_group"):
            out["exclusive_group"] = str(spec["exclusive_group"])
        if spec.get("label"):
            out["label"] = str(spec["label"])
        return out

    def credit_rule(self, data: object, where: str) -> CreditRule | None:
        spec = self.obj(data, where)
        common = self.common(spec, where)
        for flag in ("critical", "earn_back"):
            if flag in spec:
                if not isinstance(spec[flag], bool):
                    self.fail(f"{where}.{flag}", "must be true or false")
                else:
                    common[flag] = spec[flag]
        if "minimum" in spec:
            common["minimum"] = self.decimal(spec, "minimum", where)
        kind = spec.get("type", "bands")
        if kind == "bands":
            return BandRule(bands=self.bands(spec.get("bands"), f"{where}.bands"), **common)
        if kind == "pool":
            level = self.decimal(spec, "level", where)
            b = self.decimal(spec, "credit_allocation_percent", where)
            direction = spec.get("direction")
            if direction not in ("higher", "lower"):
                self.fail(f"{where}.direction", "must be 'higher' or 'lower'")
                return None
            if level is None or b is None:
                return None
            return PoolRule(
                direction=direction,
                level=level,
                category=str(spec.get("category") or ""),
                credit_allocation_percent=b,
                **common,
            )
        self.fail(f"{where}.type", "must be 'bands' or 'pool'")
        return None


def scheme_from_json(data: object) -> SchemeTerms:
    """The stored JSON read into a checked scheme; a ``PactboardError`` lists every problem at its place."""
    r = _Reader()
    top = r.obj(data, "incentive_scheme")
    currency = top.get("currency")
    if not isinstance(currency, str) or len(currency) != 3:
        r.fail("currency", "must be a three-letter ISO 4217 code such as EUR", "required")
    pool = None
    if top.get("pool") is not None:
        p = r.obj(top["pool"], "pool")
        categories = []
        for i, raw in enumerate(p.get("categories") or []):
            c = r.obj(raw, f"pool.categories[{i}]")
            a = r.decimal(c, "allocation_percent", f"pool.categories[{i}]")
            if a is not None:
                categories.append(PerformanceCategory(name=str(c.get("name") or ""), allocation_percent=a))
        at_risk = r.decimal(p, "at_risk_percent", "pool")
        available = r.decimal(p, "pool_percent_available", "pool", required=False)
        if at_risk is not None:
            pool = Pool(
                at_risk_percent=at_risk,
                base=str(p.get("base") or ""),
                categories=categories,
                pool_percent_available=available,
            )
    credit_rules = [r.credit_rule(x, f"credit_rules[{i}]") for i, x in enumerate(top.get("credit_rules") or [])]
    bonus_rules = []
    for i, raw in enumerate(top.get("bonus_rules") or []):
        spec = r.obj(raw, f"bonus_rules[{i}]")
        bonus_rules.append(
            BonusRule(
                bands=r.bands(spec.get("bands"), f"bonus_rules[{i}].bands"), **r.common(spec, f"bonus_rules[{i}]")
            )
        )
    earn_back = None
    if top.get("earn_back") is not None:
        e = r.obj(top["earn_back"], "earn_back")
        earn_back = EarnBack(
            periods=e.get("periods"),  # type: ignore[arg-type]  # checked by scheme_check
            chronic_misses=e.get("chronic_misses"),
            chronic_window=e.get("chronic_window"),
        )
    fee_bases: dict[str, Decimal] = {}
    for name in r.obj(top.get("fee_bases") or {}, "fee_bases"):
        amount = r.decimal(top["fee_bases"], name, "fee_bases")
        if amount is not None:
            if amount < 0:
                r.fail(f"fee_bases.{name}", "must be an amount of at least 0")
            fee_bases[name] = amount
    renewal = None
    if top.get("renewal") is not None:
        n = r.obj(top["renewal"], "renewal")
        renewal = RenewalRule(
            score_target=r.decimal(n, "score_target", "renewal") or Decimal(0),
            periods_required=n.get("periods_required", 10),
            window=n.get("window", 12),
            conditions_from=n.get("conditions_from"),
            chronic_misses=n.get("chronic_misses", 3),
            chronic_window=n.get("chronic_window", 6),
        )
        r.problems.extend(renewal.problems())
    credit_cap = r.amount(top.get("credit_cap"), "credit_cap")
    bonus_cap = r.amount(top.get("bonus_cap"), "bonus_cap")
    credit_minimum = r.decimal(top, "credit_minimum", "", required=False)
    if r.problems:
        raise PactboardError("The incentive scheme could not be read: correct the terms listed.", details=r.problems)
    scheme = Scheme(
        currency=cast(str, currency),
        credit_rules=[x for x in credit_rules if x is not None],
        bonus_rules=bonus_rules,
        pool=pool,
        credit_cap=credit_cap,
        bonus_cap=bonus_cap,
        credit_minimum=credit_minimum,
        earn_back=earn_back,
        rounding=top.get("rounding", "half_up"),
        minor_unit=top.get("minor_unit"),
        code=str(top.get("code") or ""),
    )
    return SchemeTerms(scheme=scheme, fee_bases=fee_bases, renewal=renewal)


def _amount_json(amount: Amount | None) -> dict[str, str] | None:
    if amount is None:
        return None
    if isinstance(amount, PercentOf):
        return {"percent": _text(amount.percent), "base": amount.base}
    return {"fixed": _text(amount.amount)}


def _edge_json(edge: Edge | None) -> dict[str, Any] | None:
    return None if edge is None else {"value": _text(edge.value), "inclusive": edge.inclusive}


def _bands_json(bands: tuple[Band, ...] | Any) -> list[dict[str, Any]]:
    out = []
    for b in bands:
        item: dict[str, Any] = {}
        for key, value in (
            ("lower", _edge_json(b.lower)),
            ("upper", _edge_json(b.upper)),
            ("amount", _amount_json(b.amount)),
        ):
            if value is not None:
                item[key] = value
        if b.label:
            item["label"] = b.label
        out.append(item)
    return out


def _rule_json(rule: CreditRule | BonusRule) -> dict[str, Any]:
    out: dict[str, Any] = {"code": rule.code, "kpi": rule.kpi}
    if isinstance(rule, PoolRule):
        out |= {
            "type": "pool",
            "direction": rule.direction,
            "level": _text(rule.level),
            "category": rule.category,
            "credit_allocation_percent": _text(rule.credit_allocation_percent),
        }
    else:
        if isinstance(rule, BandRule):
            out["type"] = "bands"
        out["bands"] = _bands_json(rule.bands)
    if isinstance(rule, BandRule | PoolRule):
        out["critical"] = rule.critical
        out["earn_back"] = rule.earn_back
        if rule.minimum is not None:
            out["minimum"] = _text(rule.minimum)
    if rule.exclusive_group:
        out["exclusive_group"] = rule.exclusive_group
    if rule.label:
        out["label"] = rule.label
    return out


def scheme_to_json(terms: SchemeTerms) -> dict[str, Any]:
    """The canonical JSON of a scheme (what is stored, hashed and signed)."""
    s = terms.scheme
    out: dict[str, Any] = {"currency": s.currency, "rounding": s.rounding}
    if s.code:
        out["code"] = s.code
    if s.minor_unit is not None and s.minor_unit != MINOR_UNITS.get(s.currency):
        out["minor_unit"] = s.minor_unit
    if terms.fee_bases:
        out["fee_bases"] = {k: _text(v) for k, v in sorted(terms.fee_bases.items())}
    if s.pool is not None:
        pool: dict[str, Any] = {
            "at_risk_percent": _text(s.pool.at_risk_percent),
            "base": s.pool.base,
            "categories": [
                {"name": c.name, "allocation_percent": _text(c.allocation_percent)} for c in s.pool.categories
            ],
        }
        if s.pool.pool_percent_available is not None:
            pool["pool_percent_available"] = _text(s.pool.pool_percent_available)
        out["pool"] = pool
    out["credit_rules"] = [_rule_json(x) for x in s.credit_rules]
    out["bonus_rules"] = [_rule_json(x) for x in s.bonus_rules]
    for name in ("credit_cap", "bonus_cap"):
        amount = _amount_json(getattr(s, name))
        if amount is not None:
            out[name] = amount
    if s.credit_minimum is not None:
        out["credit_minimum"] = _text(s.credit_minimum)
    if s.earn_back is not None:
        eb: dict[str, Any] = {"periods": s.earn_back.periods}
        if s.earn_back.chronic_misses is not None:
            eb |= {"chronic_misses": s.earn_back.chronic_misses, "chronic_window": s.earn_back.chronic_window}
        out["earn_back"] = eb
    if terms.renewal is not None:
        out["renewal"] = terms.renewal.as_json()
    return out
