"""The renewal rule (F13): from an engagement's recent scores, renew, renew with conditions, or review.

Pure. The rule as an engagement writes it, e.g. "weighted score at or above 85 in at least 10 of
the last 12 periods and no chronic KPI": ``RenewalRule(score_target=85, periods_required=10,
window=12)``. A KPI is chronic when it was missed in ``chronic_misses`` of the last
``chronic_window`` periods. The outcome:

- **renew**: the score held in at least ``periods_required`` of the window and no KPI is chronic;
- **renew with conditions**: the score held often enough but a KPI is chronic (the condition is
  to fix it), or it held in at least ``conditions_from`` periods (default two fewer than required);
- **review**: otherwise, or with no scored period at all.

Every recommendation lists its evidence in words, period by period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pactboard.core.errors import ErrorDetail

__all__ = ["Recommendation", "RenewalPeriod", "RenewalRule", "renewal_recommend"]

Outcome = Literal["renew", "renew_with_conditions", "review"]


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


@dataclass(frozen=True, kw_only=True)
class RenewalRule:
    score_target: Decimal
    periods_required: int = 10
    window: int = 12
    conditions_from: int | None = None
    chronic_misses: int = 3
    chronic_window: int = 6

    @property
    def conditions_threshold(self) -> int:
        return self.conditions_from if self.conditions_from is not None else max(1, self.periods_required - 2)

    def problems(self) -> list[ErrorDetail]:
        out = []
        for name in ("periods_required", "window", "chronic_misses", "chronic_window"):
            if not _whole(getattr(self, name)):
                out.append(ErrorDetail("must be a whole number of at least 1", f"renewal.{name}", "invalid"))
        if self.conditions_from is not None and not _whole(self.conditions_from):
            out.append(ErrorDetail("must be a whole number of at least 1", "renewal.conditions_from", "invalid"))
        if not out and self.periods_required > self.window:
            out.append(ErrorDetail("cannot be more than the window", "renewal.periods_required", "invalid"))
        if not out and self.chronic_misses > self.chronic_window:
            out.append(ErrorDetail("cannot be more than chronic_window", "renewal.chronic_misses", "invalid"))
        return out

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "score_target": format(self.score_target.normalize(), "f"),
            "periods_required": self.periods_required,
            "window": self.window,
            "chronic_misses": self.chronic_misses,
            "chronic_window": self.chronic_window,
        }
        if self.conditions_from is not None:
            out["conditions_from"] = self.conditions_from
        return out


@dataclass(frozen=True, kw_only=True)
class RenewalPeriod:
    """One period's weighted score (None: nothing scored) and which KPIs missed (None: no value)."""

    period: str
    score: Decimal | None
    missed: Mapping[str, bool | None]


@dataclass(frozen=True, kw_only=True)
class Recommendation:
    outcome: Outcome
    periods_met: int
    periods_seen: int
    chronic: tuple[str, ...]
    evidence: tuple[str, ...]

    @property
    def label(self) -> str:
        return {"renew": "Renew", "renew_with_conditions": "Renew with conditions", "review": "Review"}[self.outcome]


def renewal_recommend(*, rule: RenewalRule, history: Sequence[RenewalPeriod]) -> Recommendation:
    """The recommendation from the periods of ``history`` (oldest first) that fall in the rule's window."""
    window = list(history)[-rule.window :]
    target = rule.score_target
    evidence = []
    met = 0
    for p in window:
        if p.score is None:
            evidence.append(f"{p.period}: no score")
        elif p.score >= target:
            met += 1
            evidence.append(f"{p.period}: score {format(p.score, 'f')} at or above {format(target, 'f')}")
        else:
            evidence.append(f"{p.period}: score {format(p.score, 'f')} below {format(target, 'f')}")
    recent = window[-rule.chronic_window :]
    codes = sorted({code for p in recent for code in p.missed})
    chronic = []
    for code in codes:
        misses = sum(1 for p in recent if p.missed.get(code))
        if misses >= rule.chronic_misses:
            chronic.append(code)
            evidence.append(f"{code} is chronic: missed in {misses} of the last {len(recent)} periods")
    summary = f"score held in {met} of the last {len(window)} periods (rule: {rule.periods_required} of {rule.window})"
    if len(window) < rule.window:
        summary += f"; only {len(window)} periods of history so far"
    outcome: Outcome
    if met >= rule.periods_required and not chronic:
        outcome = "renew"
    elif met >= rule.conditions_threshold:
        outcome = "renew_with_conditions"
        if chronic:
            summary += f"; condition: bring {', '.join(chronic)} back to target"
        if met < rule.periods_required:
            summary += f"; condition: hold the score in {rule.periods_required - met} more periods"
    else:
        outcome = "review"
    return Recommendation(
        outcome=outcome,
        periods_met=met,
        periods_seen=len(window),
        chronic=tuple(chronic),
        evidence=(summary, *evidence),
    )
