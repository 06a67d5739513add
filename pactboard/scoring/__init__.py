"""Scoring: attainment, status, targets in force, weighted scores, trend arrows and control charts (pure).

docs/scoring.md and docs/trends.md define every rule implemented here. The trend test
(``pactboard.scoring.trends``) and the forecasts (``pactboard.scoring.forecasts``) are imported by
their module path, not from here: they load scipy, pymannkendall and statsmodels (several seconds
on a busy machine), which every user of the attainment rules would otherwise pay for.
"""

from pactboard.scoring.attainment import (
    ATTAINMENT_QUANTUM,
    DEFAULT_CAP,
    DIRECTIONS,
    STATUSES,
    Direction,
    KpiTerms,
    Milestone,
    Status,
    TargetInForce,
    is_at_or_beyond,
    kpi_attainment,
    kpi_status,
    kpi_terms_check,
    target_in_force,
    thresholds_check,
)
from pactboard.scoring.scorecard import (
    COVERAGE_QUANTUM,
    SCORE_QUANTUM,
    STATUS_POINTS,
    TREND_TOLERANCE,
    TREND_WINDOW,
    KpiResult,
    Scorecard,
    Trend,
    kpi_result,
    scorecard_compute,
    trend_direction,
    trend_is_better,
)
from pactboard.scoring.spc import (
    DIP_RULES,
    RULES,
    ControlLimits,
    ControlSignal,
    Dips,
    Rule,
    control_limits_estimate,
    control_signals,
    dips_find,
)

__all__ = [
    "ATTAINMENT_QUANTUM",
    "COVERAGE_QUANTUM",
    "DEFAULT_CAP",
    "DIP_RULES",
    "DIRECTIONS",
    "RULES",
    "SCORE_QUANTUM",
    "STATUSES",
    "STATUS_POINTS",
    "TREND_TOLERANCE",
    "TREND_WINDOW",
    "ControlLimits",
    "ControlSignal",
    "Dips",
    "Direction",
    "KpiResult",
    "KpiTerms",
    "Milestone",
    "Rule",
    "Scorecard",
    "Status",
    "TargetInForce",
    "Trend",
    "control_limits_estimate",
    "control_signals",
    "dips_find",
    "is_at_or_beyond",
    "kpi_attainment",
    "kpi_result",
    "kpi_status",
    "kpi_terms_check",
    "scorecard_compute",
    "target_in_force",
    "thresholds_check",
    "trend_direction",
    "trend_is_better",
]
