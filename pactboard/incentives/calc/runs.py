"""What-if and backtest: the settlement recomputed with changed values, or period by period over history.

Nothing is stored: both call ``settlement_compute`` with other inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, localcontext

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.incentives.calc.money import DECIMAL_CONTEXT, require_decimal
from pactboard.incentives.calc.scheme import Scheme
from pactboard.incentives.calc.settlement import (
    Correction,
    KpiValues,
    PeriodFigures,
    Statement,
    settlement_compute,
)

__all__ = ["Backtest", "WhatIf", "correction_between", "settlement_backtest", "settlement_what_if"]


@dataclass(frozen=True, kw_only=True)
class WhatIf:
    """The settlement as it is and as it would be with the changed values."""

    actual: Statement
    changed: Statement
    changes: Mapping[str, Decimal | None]

    @property
    def net_change(self) -> Decimal:
        with localcontext(DECIMAL_CONTEXT):
            return self.changed.net - self.actual.net


def settlement_what_if(
    *,
    scheme: Scheme,
    figures: PeriodFigures,
    changes: Mapping[str, Decimal | None],
    before: Sequence[KpiValues] = (),
    after: Sequence[KpiValues] = (),
) -> WhatIf:
    """The period's settlement recomputed with some KPI values changed (None: as if no data)."""
    known = scheme.kpis()
    for code, value in changes.items():
        if code not in known:
            raise PactboardError(
                f"The scheme does not use KPI {code!r}: change one of {', '.join(known) or 'none'}.",
                details=[ErrorDetail("is not a KPI of the scheme", f"changes.{code}", "unknown_kpi")],
            )
        require_decimal(f"changes[{code!r}]", value, optional=True)
    changed = replace(figures, values={**figures.values, **changes})
    return WhatIf(
        actual=settlement_compute(scheme=scheme, figures=figures, before=before, after=after),
        changed=settlement_compute(scheme=scheme, figures=changed, before=before, after=after),
        changes=dict(changes),
    )


@dataclass(frozen=True, kw_only=True)
class Backtest:
    """What a scheme would have paid, period by period, and in total."""

    statements: tuple[Statement, ...]
    credits_due: Decimal
    credits_pending: Decimal
    credits_waived: Decimal
    bonuses: Decimal
    net: Decimal


def settlement_backtest(*, scheme: Scheme, history: Sequence[PeriodFigures]) -> Backtest:
    """Every period of ``history`` (oldest first) settled under ``scheme``, each seeing the periods around it."""
    labels: set[str] = set()
    for i, figures in enumerate(history):
        if figures.period in labels:
            raise PactboardError(
                f"The period {figures.period} appears twice in the history: give each period once.",
                details=[ErrorDetail("appears twice", f"history[{i}].period", "duplicate_period")],
            )
        labels.add(figures.period)
    values = [f.values for f in history]
    statements = tuple(
        settlement_compute(scheme=scheme, figures=figures, before=values[:i], after=values[i + 1 :])
        for i, figures in enumerate(history)
    )

    def total(name: str) -> Decimal:
        with localcontext(DECIMAL_CONTEXT):
            return sum((getattr(s, name) for s in statements), Decimal(0))

    return Backtest(
        statements=statements,
        credits_due=total("credits_due"),
        credits_pending=total("credits_pending"),
        credits_waived=total("credits_waived"),
        bonuses=total("bonuses"),
        net=total("net"),
    )


def correction_between(*, final: Statement, corrected: Statement, reason: str = "") -> Correction:
    """The correction of a final period from its settled statement and its recomputation with corrected values."""
    if final.period != corrected.period:
        raise PactboardError(
            f"A correction compares one period with itself, not {final.period} with {corrected.period}.",
            details=[ErrorDetail("must be the final statement's period", "corrected.period", "invalid_correction")],
        )
    return Correction(period=final.period, final_net=final.net, corrected_net=corrected.net, reason=reason)
