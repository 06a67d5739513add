"""A period's scorecard: every KPI against the target in force, the weighted score, the status score, trends.

Pure functions on ``Decimal`` values; docs/scoring.md is the written definition.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from typing import Literal

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.scoring.attainment import (
    DECIMAL_CONTEXT,
    STATUSES,
    Direction,
    KpiTerms,
    Status,
    kpi_attainment,
    kpi_status,
    target_in_force,
)

__all__ = [
    "COVERAGE_QUANTUM",
    "SCORE_QUANTUM",
    "STATUS_POINTS",
    "TREND_TOLERANCE",
    "TREND_WINDOW",
    "KpiResult",
    "ResultMemo",
    "Scorecard",
    "Trend",
    "kpi_result",
    "kpi_result_memoised",
    "kpi_results_memo",
    "scorecard_compute",
    "trend_direction",
    "trend_is_better",
]

SCORE_QUANTUM = Decimal("0.1")
COVERAGE_QUANTUM = Decimal("0.0001")

# Points per status for the normalised 0-100 status score the portfolio view compares.
STATUS_POINTS: Mapping[Status, Decimal] = {
    "exceeded": Decimal(100),
    "met": Decimal(100),
    "at_risk": Decimal(50),
    "missed": Decimal(0),
}

Trend = Literal["up", "down", "flat"]
TREND_WINDOW = 3
TREND_TOLERANCE = Decimal("0.01")


@dataclass(frozen=True, kw_only=True)
class KpiResult:
    """One KPI's line on a scorecard."""

    code: str
    value: Decimal | None
    target: Decimal
    amber: Decimal | None
    stretch: Decimal | None
    status: Status
    attainment: Decimal | None
    weight: Decimal
    milestone_date: dt.date | None = None  # set when an interim (milestone) target applied


@dataclass(frozen=True, kw_only=True)
class Scorecard:
    """A period's results, in the order of the terms, with the engagement-level figures.

    ``score``: weighted mean of capped attainment times 100 over KPIs with data (None if none has data).
    ``status_score``: weighted mean of status points (exceeded/met 100, at_risk 50, missed 0).
    ``coverage``: share of the total weight whose KPIs had data, 0 to 1.
    ``counts``: number of KPIs per status, every status present.
    """

    results: tuple[KpiResult, ...]
    score: Decimal | None
    status_score: Decimal | None
    coverage: Decimal
    counts: Mapping[Status, int]

    def result(self, code: str) -> KpiResult:
        for r in self.results:
            if r.code == code:
                return r
        raise KeyError(code)


def kpi_result(*, terms: KpiTerms, value: Decimal | None, period_last_day: dt.date) -> KpiResult:
    """One KPI's value judged against the target in force for the period ending on ``period_last_day``."""
    levels = target_in_force(terms=terms, period_last_day=period_last_day)
    return KpiResult(
        code=terms.code,
        value=value,
        target=levels.target,
        amber=levels.amber,
        stretch=levels.stretch,
        status=kpi_status(
            direction=terms.direction, value=value, target=levels.target, amber=levels.amber, stretch=levels.stretch
        ),
        attainment=kpi_attainment(direction=terms.direction, value=value, target=levels.target, cap=terms.max_cap),
        weight=terms.weight,
        milestone_date=levels.milestone_date,
    )


# ``kpi_result`` is pure, and pages judge the same (terms, value, period) again and again: a portfolio
# judges 4 periods of every engagement's KPIs (1,600 results for 50 engagements), a dashboard every
# closed period of every tile (720 for 20 KPIs). One memo per terms, so that a caller walking one KPI's
# periods hashes its terms once; keyed on the value as written (str: 80 and 80.0 are equal but each is
# shown as stored) and the period's last day. At most _JUDGED_ENTRIES results in all (some 30 MB),
# whatever a tenant sends: past it everything is forgotten at once and judged afresh.
ResultMemo = dict[tuple[str | None, dt.date], KpiResult]
_JUDGED: OrderedDict[KpiTerms, ResultMemo] = OrderedDict()
_JUDGED_TERMS = 4096
_JUDGED_ENTRIES = 65536
_JUDGED_LOCK = threading.Lock()
_judged_entries = 0


def kpi_results_memo(terms: KpiTerms) -> ResultMemo:
    """The memo of ``kpi_result`` for one KPI's terms (pass it to ``kpi_result_memoised``)."""
    global _judged_entries
    with _JUDGED_LOCK:
        memo = _JUDGED.get(terms)
        if memo is None:
            memo = _JUDGED[terms] = {}
            if len(_JUDGED) > _JUDGED_TERMS:
                _, oldest = _JUDGED.popitem(last=False)
                _judged_entries -= len(oldest)
        return memo


def kpi_result_memoised(
    *, terms: KpiTerms, value: Decimal | None, period_last_day: dt.date, memo: ResultMemo | None = None
) -> KpiResult:
    """``kpi_result``, remembered: the same answer, computed once per terms, value as written and period."""
    global _judged_entries
    if value is not None and not isinstance(value, Decimal):
        return kpi_result(terms=terms, value=value, period_last_day=period_last_day)  # refuses it, as it should
    if memo is None:
        memo = kpi_results_memo(terms)
    key = (None if value is None else str(value), period_last_day)
    result = memo.get(key)
    if result is None:
        result = kpi_result(terms=terms, value=value, period_last_day=period_last_day)
        with _JUDGED_LOCK:
            if _judged_entries >= _JUDGED_ENTRIES:
                for held in _JUDGED.values():
                    held.clear()  # a caller holding one of these keeps an empty memo, not a stale one
                _JUDGED.clear()
                _judged_entries = 0
                _JUDGED[terms] = memo
            if key not in memo:
                memo[key] = result
                _judged_entries += 1
    return result


def scorecard_compute(
    *, terms: Sequence[KpiTerms], values: Mapping[str, Decimal | None], period_last_day: dt.date
) -> Scorecard:
    """The scorecard of a period: a KPI missing from ``values`` (or None) has no data.

    A value for a code that is not among the terms, or two terms with one code, is refused.
    """
    codes = [t.code for t in terms]
    problems = [
        ErrorDetail("another KPI has the same code", f"terms[{i}].code", "duplicate_code")
        for i, code in enumerate(codes)
        if code in codes[:i]
    ]
    known = set(codes)
    problems += [
        ErrorDetail("is not a KPI of this scorecard", f"values.{code}", "unknown_kpi")
        for code in sorted(values)
        if code not in known
    ]
    if problems:
        raise PactboardError("The scorecard cannot be computed: the KPIs and values do not match.", details=problems)

    results = tuple(
        kpi_result_memoised(terms=t, value=values.get(t.code), period_last_day=period_last_day) for t in terms
    )
    counts: dict[Status, int] = dict.fromkeys(STATUSES, 0)
    for r in results:
        counts[r.status] += 1

    with localcontext(DECIMAL_CONTEXT):
        total_weight = sum((r.weight for r in results), Decimal(0))
        scored = [r for r in results if r.attainment is not None]
        data_weight = sum((r.weight for r in scored), Decimal(0))
        coverage = Decimal(0)
        if results:
            coverage = (data_weight / total_weight).quantize(COVERAGE_QUANTUM, rounding=ROUND_FLOOR)
        score: Decimal | None = None
        status_score: Decimal | None = None
        if scored:
            weighted = sum((r.weight * r.attainment for r in scored if r.attainment is not None), Decimal(0))
            score = (weighted / data_weight * 100).quantize(SCORE_QUANTUM, rounding=ROUND_HALF_UP)
            points = sum((r.weight * STATUS_POINTS[r.status] for r in scored), Decimal(0))
            status_score = (points / data_weight).quantize(SCORE_QUANTUM, rounding=ROUND_HALF_UP)
    return Scorecard(results=results, score=score, status_score=status_score, coverage=coverage, counts=counts)


def trend_direction(
    *, values: Sequence[Decimal | None], target: Decimal | None = None, window: int = TREND_WINDOW
) -> Trend | None:
    """Whether the latest value moved up, down or stayed flat against the mean of the previous ones.

    ``values`` are in period order, oldest first. The reference is the mean of the values of the
    ``window`` periods just before the last one (periods without data are skipped). The move is
    "flat" when it is within 1 % of the target (of the larger of |last| and |reference| when no
    non-zero target is given). None when the last period has no data or no reference exists.
    This is the scorecard's arrow, not the statistical trend test.
    """
    if window < 1:
        raise ValueError("window must be at least 1")
    if not values or values[-1] is None:
        return None
    last = values[-1]
    previous = [v for v in values[-1 - window : -1] if v is not None]
    if not previous:
        return None
    with localcontext(DECIMAL_CONTEXT):
        reference = sum(previous, Decimal(0)) / len(previous)
        scale = abs(target) if target is not None and target != 0 else max(abs(last), abs(reference))
        change = last - reference
        if abs(change) <= TREND_TOLERANCE * scale:
            return "flat"
        return "up" if change > 0 else "down"


def trend_is_better(*, trend: Trend | None, direction: Direction) -> bool | None:
    """True when the move improves the KPI (given its direction), False when it worsens it, None when flat/unknown."""
    if trend is None or trend == "flat":
        return None
    return (trend == "up") == (direction == "higher")
