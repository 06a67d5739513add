"""Which alert causes hold for one KPI's history: pure rules, no ORM (docs/governance.md, "Alerts").

The scan (``governance.alerts``) feeds each KPI's closed periods, in time order, each with its
value (None when none was recorded) and the status the scorecard gives it; this module answers
with the causes that hold now. A cause is named by a key that stays the same however often the
scan runs, so the database's unique key (engagement, cause key) makes an alert fire once.

- ``breach`` / ``at_risk``: the latest closed period's value is missed / at risk. One cause per KPI
  and period; when the next period closes, the older period's cause is gone (the alert says what
  needs attention now, the scorecard keeps the history), so a first scan of a long history raises
  one alert per KPI, not one per past period.
- ``dip``: a value that is a special cause on the unfavourable side of the KPI's own individuals
  chart (Western Electric rules 1-4, ``scoring.spc.dips_find``; centre line = mean of the history,
  sigma = average moving range / 1.128), judged on the latest closed period only, whichever rules
  fired there.
- ``chronic``: ``chronic_after`` consecutive missed periods (periods with a value; a period without
  one is no evidence either way and neither extends nor ends the run; an at-risk period ends the
  run before it becomes chronic). Once chronic, the KPI stays chronic until a period is met (or
  exceeded) again; at risk is not met, so it does not clear it. The key names the run's first period.
- ``late``: one of the last ``LATE_WINDOW`` closed periods without a value ``grace_days`` days (or
  more) after it closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from pactboard.core.errors import invalid
from pactboard.scoring.attainment import Direction, Status
from pactboard.scoring.spc import dips_find

__all__ = [
    "CHRONIC_AFTER",
    "GRACE_DAYS",
    "KINDS",
    "LATE_WINDOW",
    "AlertKind",
    "Cause",
    "PeriodResult",
    "causes_for_kpi",
]

AlertKind = Literal["breach", "at_risk", "dip", "chronic", "late"]
KINDS: tuple[AlertKind, ...] = ("breach", "at_risk", "dip", "chronic", "late")

# Defaults of the per-engagement settings (governance.models.AlertSettings).
CHRONIC_AFTER = 3
GRACE_DAYS = 5
# How many of the newest closed periods are checked for missing values.
LATE_WINDOW = 3


@dataclass(frozen=True, kw_only=True)
class PeriodResult:
    """One closed period of a KPI: ``closes_on`` is the first day after it (``Period.end``)."""

    label: str
    closes_on: date
    value: Decimal | None
    status: Status
    target: Decimal | None = None


@dataclass(frozen=True, kw_only=True)
class Cause:
    kind: AlertKind
    key: str
    kpi_code: str
    period: str
    evidence: dict[str, Any] = field(default_factory=dict)


def _num(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def causes_for_kpi(
    *,
    code: str,
    direction: Direction,
    history: Sequence[PeriodResult],
    today: date,
    chronic_after: int = CHRONIC_AFTER,
    grace_days: int = GRACE_DAYS,
) -> list[Cause]:
    """Every cause that holds for one KPI, given its closed periods in time order."""
    if chronic_after < 1:
        raise invalid(
            "A chronic alert needs at least 1 missed period: set chronic_after to 1 or more.",
            location="chronic_after",
            code="out_of_range",
        )
    causes: list[Cause] = []
    latest = history[-1:]
    for p in history[-LATE_WINDOW:]:
        # Late a grace period after the close: October closes on 1 Nov; grace 5 days -> late from 6 Nov.
        if p.value is None and today >= p.closes_on + timedelta(days=grace_days):
            causes.append(
                Cause(
                    kind="late",
                    key=f"late:{code}:{p.label}",
                    kpi_code=code,
                    period=p.label,
                    evidence={"closed_on": p.closes_on.isoformat(), "grace_days": grace_days},
                )
            )
    for p in latest:
        if p.value is not None and p.status in ("missed", "at_risk"):
            kind: AlertKind = "breach" if p.status == "missed" else "at_risk"
            causes.append(
                Cause(
                    kind=kind,
                    key=f"{kind}:{code}:{p.label}",
                    kpi_code=code,
                    period=p.label,
                    evidence={"value": _num(p.value), "target": _num(p.target), "status": p.status},
                )
            )
    dips = dips_find(points=[(p.label, p.value) for p in history], direction=direction)
    by_label: dict[str, list[str]] = {}
    for signal in dips.signals:
        by_label.setdefault(str(signal.label), []).append(signal.rule)
    for p in latest:
        rules = by_label.get(p.label)
        if rules:
            causes.append(
                Cause(
                    kind="dip",
                    key=f"dip:{code}:{p.label}",
                    kpi_code=code,
                    period=p.label,
                    evidence={"value": _num(p.value), "rules": sorted(set(rules)), "chart": dips.reason},
                )
            )
    run: list[PeriodResult] = []
    chronic_from: PeriodResult | None = None
    for p in history:
        if p.value is None:
            continue
        if p.status == "missed":
            run.append(p)
            if chronic_from is None and len(run) >= chronic_after:
                chronic_from = run[0]
        elif p.status == "at_risk":
            run = []
        else:
            run, chronic_from = [], None
    if chronic_from is not None:
        causes.append(
            Cause(
                kind="chronic",
                key=f"chronic:{code}:{chronic_from.label}",
                kpi_code=code,
                period=chronic_from.label,
                evidence={"since": chronic_from.label, "missed_in_a_row": chronic_after},
            )
        )
    return causes
