"""Which wins a KPI's history holds: pure rules, no ORM (docs/governance.md, "Collaboration").

The wins scan (``governance.wins``) feeds each KPI's closed periods in time order, each with its value
(None when none was recorded), the status the scorecard gives it and, when an interim target applied,
the milestone's date. This module answers with the wins, each named by a key that stays the same
however often the scan runs, so the database's unique key (engagement, cause key) posts it once.

Periods without a value are no evidence either way: they are skipped, like the alert rules skip them.

- ``met_again``: a period met (or exceeded) whose previous period with a value was missed. An at-risk
  period in between is not a miss: missed, at risk, met is no "met again".
- ``chronic_cleared``: a period met (or exceeded) that ends a chronic run (``chronic_after`` missed
  periods in a row, counted as ``alert_rules`` counts them: an at-risk period ends a run before it is
  chronic, but does not clear a chronic KPI). It stands in for ``met_again`` on that period.
- ``milestone``: the first period judged against a milestone's interim target that meets (or exceeds)
  it. One win per milestone, keyed by the milestone's date.
- ``stretch``: a period whose value reaches the stretch target (the status "exceeded").

Only the last ``window`` periods of the history post wins (older ones still set the scene: the
miss before a "met again", the run before a "chronic cleared"), so a first scan of a long history
celebrates what happened lately, not every month since the start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pactboard.core.errors import invalid
from pactboard.scoring.attainment import Status

__all__ = ["WIN_KINDS", "WIN_WINDOW", "WinCause", "WinKind", "WinPeriod", "wins_for_kpi"]

WinKind = Literal["met_again", "chronic_cleared", "milestone", "stretch"]
WIN_KINDS: tuple[WinKind, ...] = ("met_again", "chronic_cleared", "milestone", "stretch")
# How many of the newest closed periods may post a win.
WIN_WINDOW = 3
_GOOD: frozenset[str] = frozenset({"met", "exceeded"})


@dataclass(frozen=True, kw_only=True)
class WinPeriod:
    """One closed period of a KPI as the scorecard judged it."""

    label: str
    value: Decimal | None
    status: Status
    target: Decimal | None = None
    stretch: Decimal | None = None
    milestone_date: date | None = None


@dataclass(frozen=True, kw_only=True)
class WinCause:
    kind: WinKind
    key: str
    kpi_code: str
    period: str
    evidence: dict[str, Any] = field(default_factory=dict)


def _num(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def wins_for_kpi(
    *, code: str, history: Sequence[WinPeriod], chronic_after: int = 3, window: int = WIN_WINDOW
) -> list[WinCause]:
    """Every win of one KPI within the last ``window`` periods of ``history`` (closed periods in time order)."""
    if chronic_after < 1:
        raise invalid(
            "A KPI is chronic after at least 1 missed period: set chronic_after to 1 or more.",
            location="chronic_after",
            code="out_of_range",
        )
    if window < 1:
        raise invalid("The win window must hold at least 1 period.", location="window", code="out_of_range")
    eligible = {p.label for p in history[-window:]}
    wins: list[WinCause] = []
    run = 0
    chronic = False
    previous: WinPeriod | None = None
    reached: set[date] = set()
    for p in history:
        if p.value is None:
            continue
        here: list[WinCause] = []
        base = {"value": _num(p.value), "target": _num(p.target)}
        if p.status in _GOOD:
            if chronic:
                here.append(
                    WinCause(
                        kind="chronic_cleared",
                        key=f"chronic_cleared:{code}:{p.label}",
                        kpi_code=code,
                        period=p.label,
                        evidence={**base, "missed_before": run},
                    )
                )
            elif previous is not None and previous.status == "missed":
                here.append(
                    WinCause(
                        kind="met_again",
                        key=f"met_again:{code}:{p.label}",
                        kpi_code=code,
                        period=p.label,
                        evidence={**base, "missed_in": previous.label},
                    )
                )
            if p.milestone_date is not None and p.milestone_date not in reached:
                reached.add(p.milestone_date)
                here.append(
                    WinCause(
                        kind="milestone",
                        key=f"milestone:{code}:{p.milestone_date.isoformat()}",
                        kpi_code=code,
                        period=p.label,
                        evidence={**base, "milestone": p.milestone_date.isoformat()},
                    )
                )
            if p.status == "exceeded":
                here.append(
                    WinCause(
                        kind="stretch",
                        key=f"stretch:{code}:{p.label}",
                        kpi_code=code,
                        period=p.label,
                        evidence={**base, "stretch": _num(p.stretch)},
                    )
                )
            run, chronic = 0, False
        elif p.status == "missed":
            run += 1
            chronic = chronic or run >= chronic_after
        else:  # at risk: ends a run that is not chronic yet; a chronic KPI stays chronic
            run = 0 if not chronic else run
        previous = p
        if p.label in eligible:
            wins.extend(here)
    return wins
