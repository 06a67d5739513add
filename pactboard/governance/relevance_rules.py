"""The pure half of KPI relevance reviews: one KPI's evidence from its closed periods, and when a review is due.

No ORM (like ``alert_rules`` and ``win_rules``): plain values in, plain values out, tested on
hand-worked histories. ``governance.relevance`` reads the periods and stores what these return.
docs/governance.md, "Relevance reviews".
"""

from __future__ import annotations

import calendar
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pactboard.governance.alert_rules import PeriodResult
from pactboard.kpis.content import plain_decimal

EVERY_MONTHS = 6
SPREAD_QUANTUM = Decimal("0.0001")


@dataclass(frozen=True)
class KpiEvidence:
    """What a KPI's history says, over the closed periods in which an agreed version held it.

    ``exceeded``/``met``/``at_risk``/``missed`` count periods by their scoring status (docs/scoring.md),
    each period once: a period at or beyond stretch is *exceeded*, not also *met*. ``spread`` is the
    sample standard deviation (n - 1) of the measured values, in the KPI's unit (None below two
    values); ``completeness`` is periods measured / periods in force (None without a period in force).
    """

    periods_in_force: int = 0
    periods_measured: int = 0
    exceeded: int = 0
    met: int = 0
    at_risk: int = 0
    missed: int = 0
    mean: Decimal | None = None
    spread: Decimal | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    completeness: Decimal | None = None
    first_period: str = ""
    last_period: str = ""
    live_objectives: tuple[str, ...] = ()
    ended_objectives: tuple[str, ...] = ()

    @property
    def live_objective(self) -> bool:
        return bool(self.live_objectives)

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("mean", "spread", "minimum", "maximum", "completeness"):
            out[key] = plain_decimal(out[key])
        out["live_objectives"] = list(self.live_objectives)
        out["ended_objectives"] = list(self.ended_objectives)
        out["live_objective"] = self.live_objective
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> KpiEvidence:
        if not data:
            return cls()
        values: dict[str, Any] = {k: data.get(k) for k in cls.__dataclass_fields__}
        for key in ("mean", "spread", "minimum", "maximum", "completeness"):
            values[key] = Decimal(values[key]) if values[key] is not None else None
        values["live_objectives"] = tuple(values["live_objectives"] or ())
        values["ended_objectives"] = tuple(values["ended_objectives"] or ())
        return cls(**values)


def kpi_evidence(
    *, history: Sequence[PeriodResult], live_objectives: Iterable[str] = (), ended_objectives: Iterable[str] = ()
) -> KpiEvidence:
    """The evidence of one KPI from its closed periods in force (each with its value and status)."""
    values = [p.value for p in history if p.value is not None]
    counts: dict[str, int] = defaultdict(int)
    for p in history:
        if p.value is not None:
            counts[p.status] += 1
    spread = mean = None
    if values:
        mean = (sum(values, Decimal(0)) / len(values)).quantize(SPREAD_QUANTUM)
    if len(values) >= 2:
        spread = statistics.stdev(values).quantize(SPREAD_QUANTUM)
    return KpiEvidence(
        periods_in_force=len(history),
        periods_measured=len(values),
        exceeded=counts["exceeded"],
        met=counts["met"],
        at_risk=counts["at_risk"],
        missed=counts["missed"],
        mean=mean,
        spread=spread,
        minimum=min(values) if values else None,
        maximum=max(values) if values else None,
        completeness=(Decimal(len(values)) / Decimal(len(history))).quantize(SPREAD_QUANTUM) if history else None,
        first_period=history[0].label if history else "",
        last_period=history[-1].label if history else "",
        live_objectives=tuple(sorted(live_objectives)),
        ended_objectives=tuple(sorted(ended_objectives)),
    )


def months_after(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to a short month's last day (31 Aug + 6 = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def relevance_due_on(*, start: date, every_months: int, today: date) -> date | None:
    """The latest cadence day (start + k·N months, k ≥ 1) on or before ``today``; None before the first."""
    due = None
    k = 1
    while (candidate := months_after(start, k * every_months)) <= today:
        due = candidate
        k += 1
    return due
