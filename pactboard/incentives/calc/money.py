"""Money amounts: currencies' minor units, rounding once per line, amounts stated as a share of a fee base.

Pure: ``Decimal`` only (never float), no Django. docs/incentives.md is the written definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import Literal, get_args

from pactboard.core.errors import ErrorDetail, PactboardError

__all__ = [
    "DECIMAL_CONTEXT",
    "HUNDRED",
    "MINOR_UNITS",
    "ROUNDINGS",
    "Amount",
    "Fixed",
    "PercentOf",
    "Rounding",
    "amount_check",
    "amount_is_zero",
    "amount_raw",
    "fee_base",
    "money_quantum",
    "money_round",
    "require_decimal",
]

# Wide enough that products of fees, percentages and minute counts are exact before the one
# rounding per line; results then do not depend on the caller's decimal context.
DECIMAL_CONTEXT = Context(prec=60, traps=[InvalidOperation, DivisionByZero, Overflow])
HUNDRED = Decimal(100)

Rounding = Literal["half_up", "half_even", "half_down", "up", "down", "ceiling", "floor"]
ROUNDINGS: tuple[Rounding, ...] = get_args(Rounding)
_DECIMAL_ROUNDING: dict[str, str] = {
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "half_down": ROUND_HALF_DOWN,
    "up": ROUND_UP,
    "down": ROUND_DOWN,
    "ceiling": ROUND_CEILING,
    "floor": ROUND_FLOOR,
}

# ISO 4217 minor units (digits after the decimal point) of the currencies engagements use most;
# a scheme in another currency states its ``minor_unit`` itself.
MINOR_UNITS: Mapping[str, int] = {
    "AUD": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0, "CNY": 2, "CZK": 2, "DKK": 2,
    "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "ISK": 0, "JOD": 3,
    "JPY": 0, "KRW": 0, "KWD": 3, "MXN": 2, "MYR": 2, "NOK": 2, "NZD": 2, "OMR": 3, "PHP": 2,
    "PLN": 2, "RON": 2, "SEK": 2, "SGD": 2, "THB": 2, "TND": 3, "TRY": 2, "TWD": 2, "USD": 2,
    "VND": 0, "ZAR": 2,
}  # fmt: skip


def require_decimal(name: str, value: object, *, optional: bool = False) -> None:
    """Refuse a float (or anything else) where money or a measured value is expected."""
    if value is None and optional:
        return
    if not isinstance(value, Decimal) or isinstance(value, bool):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__} (money never uses float)")


def money_quantum(minor_unit: int) -> Decimal:
    """The smallest amount of a currency with ``minor_unit`` digits: 2 → 0.01, 0 → 1, 3 → 0.001."""
    return Decimal(1).scaleb(-minor_unit)


def money_round(amount: Decimal, *, minor_unit: int, rounding: Rounding) -> Decimal:
    """``amount`` rounded to the currency's minor unit with the scheme's rounding mode."""
    if rounding not in _DECIMAL_ROUNDING:
        raise PactboardError(
            f"Unknown rounding mode {rounding!r}: use one of {', '.join(ROUNDINGS)}.",
            details=[ErrorDetail("is not a known rounding mode", "rounding", "invalid_rounding")],
        )
    with localcontext(DECIMAL_CONTEXT):
        # A negative zero (e.g. -0.001 rounded half-up) is shown as plain zero.
        return amount.quantize(money_quantum(minor_unit), rounding=_DECIMAL_ROUNDING[rounding]) + 0


@dataclass(frozen=True, kw_only=True)
class PercentOf:
    """A share of a named fee base: ``percent`` is in percentage points (10 means 10 %)."""

    percent: Decimal
    base: str

    def __post_init__(self) -> None:
        require_decimal("PercentOf.percent", self.percent)

    def describe(self) -> str:
        return f"{format(self.percent, 'f')} % of {self.base}"


@dataclass(frozen=True, kw_only=True)
class Fixed:
    """A fixed amount in the scheme's currency."""

    amount: Decimal

    def __post_init__(self) -> None:
        require_decimal("Fixed.amount", self.amount)

    def describe(self) -> str:
        return f"fixed {format(self.amount, 'f')}"


Amount = PercentOf | Fixed


def amount_check(amount: Amount, location: str) -> list[ErrorDetail]:
    """Problems with an amount's terms: finite, not negative, a named base."""
    if isinstance(amount, PercentOf):
        problems = []
        if not amount.percent.is_finite() or amount.percent < 0:
            problems.append(ErrorDetail("must be a number of at least 0", f"{location}.percent", "invalid_percent"))
        if not isinstance(amount.base, str) or not amount.base.strip():
            problems.append(ErrorDetail("must name a fee base (e.g. monthly_fee)", f"{location}.base", "required"))
        return problems
    if isinstance(amount, Fixed):
        if not amount.amount.is_finite() or amount.amount < 0:
            return [ErrorDetail("must be an amount of at least 0", f"{location}.amount", "invalid_amount")]
        return []
    return [ErrorDetail("must be a percentage of a fee base or a fixed amount", location, "invalid_amount")]


def amount_is_zero(amount: Amount | None) -> bool:
    """Whether the terms can only ever give nothing (no amount, 0 %, or a fixed 0)."""
    if amount is None:
        return True
    return (amount.percent if isinstance(amount, PercentOf) else amount.amount) == 0


def fee_base(fee_bases: Mapping[str, Decimal], name: str, *, period: str, needed_by: str) -> Decimal:
    """The period's amount of a named fee base; a missing one is refused naming who needs it."""
    if name not in fee_bases:
        raise PactboardError(
            f"{needed_by} needs the fee base {name!r} for {period}: give its amount (e.g. the month's invoice).",
            details=[ErrorDetail("is missing", f"fee_bases.{name}", "missing_fee_base")],
        )
    return fee_bases[name]


def amount_raw(amount: Amount, *, fee_bases: Mapping[str, Decimal], period: str, needed_by: str) -> Decimal:
    """The unrounded amount the terms give in the period (rounded later, once, by the line)."""
    if isinstance(amount, Fixed):
        return amount.amount
    base = fee_base(fee_bases, amount.base, period=period, needed_by=needed_by)
    with localcontext(DECIMAL_CONTEXT):
        return base * amount.percent / HUNDRED
