"""A settlement statement as stored and exported JSON: every amount a decimal string in the currency (pure)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from pactboard.incentives.calc import Correction, Line, PeriodFigures, Statement
from pactboard.incentives.calc.settlement import KpiValues

LINE_FIELDS = (
    "kind", "rule", "kpi", "value", "band", "base", "base_amount", "percent", "fixed", "allocation_percent",
    "credit_allocation_percent", "at_risk_amount", "minimum", "cap", "missed", "critical", "computed", "amount",
    "earn_back",
)  # fmt: skip
TOTAL_FIELDS = (
    "credits_assessed", "credits_due", "credits_pending", "credits_waived", "bonuses", "net", "adjustments",
    "payable", "credit_cap", "bonus_cap", "at_risk_amount",
)  # fmt: skip


def _plain(value: Any) -> Any:
    # Amounts keep their minor unit (1000.00 stays "1000.00"): format without normalising.
    return format(value, "f") if isinstance(value, Decimal) else value


# Measured values and percentages as written ("88", not the stored "88.000000"); amounts keep their minor unit.
_NORMALISED = frozenset({"value", "percent", "allocation_percent", "credit_allocation_percent"})


def _number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def line_to_json(line: Line) -> dict[str, Any]:
    out = {}
    for name in LINE_FIELDS:
        v = getattr(line, name)
        out[name] = _number(v) if name in _NORMALISED and isinstance(v, Decimal) else _plain(v)
    out["explanation"] = " · ".join(line.explanation)
    return out


def statement_to_json(statement: Statement) -> dict[str, Any]:
    """The statement: totals, lines, and the actions its critical misses ask for."""
    return {
        "period": statement.period,
        "currency": statement.currency,
        **{name: _plain(getattr(statement, name)) for name in TOTAL_FIELDS},
        "lines": [line_to_json(x) for x in statement.lines],
        "actions": [{"rule": a.rule, "kpi": a.kpi, "period": a.period, "reason": a.reason} for a in statement.actions],
    }


def values_to_json(values: KpiValues) -> dict[str, str | None]:
    return {code: None if v is None else _number(v) for code, v in sorted(values.items())}


def values_from_json(data: Mapping[str, str | None]) -> dict[str, Decimal | None]:
    return {code: None if v is None else Decimal(v) for code, v in data.items()}


def inputs_to_json(
    *,
    figures: PeriodFigures,
    before: Sequence[KpiValues],
    after: Sequence[KpiValues],
    corrections: Sequence[Correction],
) -> dict[str, Any]:
    """Everything a settlement was computed from, so that it can be recomputed and checked later."""
    return {
        "values": values_to_json(figures.values),
        "fee_bases": {k: format(v, "f") for k, v in sorted(figures.fee_bases.items())},
        "before": [values_to_json(v) for v in before],
        "after": [values_to_json(v) for v in after],
        "corrections": [
            {
                "period": c.period,
                "final_net": format(c.final_net, "f"),
                "corrected_net": format(c.corrected_net, "f"),
                "reason": c.reason,
            }
            for c in corrections
        ],
    }


def settlement_hash(*, period: str, version_id: int, inputs: Mapping[str, Any], statement: Mapping[str, Any]) -> str:
    payload = {"period": period, "version": version_id, "inputs": inputs, "statement": statement}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
