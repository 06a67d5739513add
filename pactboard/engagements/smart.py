"""The SMART check of an objective (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class SmartGap:
    letter: str  # S, M, A, R or T
    field: str
    message: str


def objective_smart_check(
    *,
    measure: str,
    target: str,
    deadline: date | None,
    has_owner: bool,
    linked_kpi_count: int,
    relevance: str = "",
) -> list[SmartGap]:
    """Name what keeps an objective from being SMART; an empty list means nothing is missing."""
    gaps: list[SmartGap] = []
    if not measure.strip():
        gaps.append(SmartGap("M", "measure", "No measure: say what will be measured."))
    if not target.strip():
        gaps.append(SmartGap("A", "target", "No target: say what level counts as achieved."))
    if deadline is None:
        gaps.append(SmartGap("T", "deadline", "No date: say by when the target must be reached."))
    if not has_owner:
        gaps.append(SmartGap("S", "owner", "No owner: name the person accountable."))
    if not relevance.strip():
        gaps.append(SmartGap("R", "relevance", "No relevance: say why this goal matters to the business."))
    if linked_kpi_count == 0:
        gaps.append(SmartGap("M", "kpis", "Not linked to a KPI: link at least one KPI that measures it."))
    return gaps
