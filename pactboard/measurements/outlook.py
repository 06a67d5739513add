"""Each KPI's outlook: its closed-period history, trend, control-chart signals, runs, classification, forecast.

The reads behind the KPI page's trend panel and forecast fan, the dashboard tile's forecast, the
scorecard's trend column and the API. A constant number of queries whatever the number of KPIs and
periods (the agreed versions, their KPIs, their milestones, the values: four); the statistics are
the pure ``pactboard.scoring`` modules, defined in docs/trends.md:

- history: every closed period from the engagement's start (up to its end), each judged by the
  version in force on the period's first day; a period in which no agreed version held the KPI
  keeps its place with no target (so Sen's slope still counts periods) and is no miss or exceedance;
- ``trends.kpi_classify`` (sign test, Mann-Kendall with Sen's slope, runs) over that history;
- ``spc.control_signals`` with every rule, on the KPI's own chart, from ``CONTROL_MIN_POINTS`` values;
- ``forecasts.kpi_forecast`` with the terms in force now, for the running period and the milestones ahead.

Forecasts fit up to four ETS models per KPI (about 0.2 s for five years of months on an idle core),
so they are memoised per process on their exact inputs (history, terms, current period): a new or
revised value, a new agreement or a new period is a new key, and nothing is ever stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Literal, NamedTuple, cast

from django.db.models import Prefetch

from pactboard.core.periods import Period, PeriodKind, latest_closed_period, local_date, periods_between
from pactboard.engagements.models import Engagement
from pactboard.kpis.models import AgreementVersion, Milestone, VersionKpi
from pactboard.kpis.selectors import kpi_terms
from pactboard.measurements.models import Measurement
from pactboard.scoring.attainment import Direction, KpiTerms, Status
from pactboard.scoring.forecasts import KpiForecast, kpi_forecast
from pactboard.scoring.scorecard import ResultMemo, kpi_result_memoised, kpi_results_memo
from pactboard.scoring.spc import (
    DIPS_MIN_POINTS,
    RULE_WORDING,
    RULES,
    ControlLimits,
    ControlSignal,
    Rule,
    control_limits_estimate,
    control_signals,
)
from pactboard.scoring.trends import KpiClassification, Run, TrendTest, Word, kpi_classify

__all__ = [
    "CONTROL_MIN_POINTS",
    "RULE_NAMES",
    "WORD_LABELS",
    "AgreedKpis",
    "ForecastChoice",
    "KpiOutlook",
    "OutlookPeriod",
    "RuleSignals",
    "forecast_cache_clear",
    "kpi_outlooks",
    "outlook_as_dict",
    "outlooks_build",
]

ForecastChoice = Literal["best", "simple", "none"]

# A control chart is read from eight values on: the shortest history on which every Western
# Electric rule can fire (the same floor as the governance dip alerts, spc.DIPS_MIN_POINTS).
CONTROL_MIN_POINTS = DIPS_MIN_POINTS

WORD_LABELS: dict[Word, str] = {
    "consistently_under_performing": "Consistently under-performing",
    "consistently_over_achieving": "Consistently over-achieving",
    "improving": "Improving",
    "declining": "Declining",
    "stable": "Stable",
    "insufficient_data": "Not enough data",
}

RULE_NAMES: dict[Rule, str] = {
    "we1": "Western Electric rule 1",
    "we2": "Western Electric rule 2",
    "we3": "Western Electric rule 3",
    "we4": "Western Electric rule 4",
    "nelson3": "Nelson test 3",
    "nelson4": "Nelson test 4",
    "nelson7": "Nelson test 7",
    "nelson8": "Nelson test 8",
}


class OutlookPeriod(NamedTuple):
    """One closed period: its value, and the target and status by the version in force on its first day.

    A named tuple (immutable, built in C): a dashboard makes one per KPI and closed period, 720 for 20 KPIs.
    """

    period: Period
    value: Decimal | None
    target: Decimal | None  # None: no agreed version held the KPI then
    status: Status | None
    version_number: int | None


@dataclass(frozen=True, kw_only=True)
class RuleSignals:
    """One control-chart rule's signals, by the periods that completed its pattern."""

    rule: Rule
    name: str
    wording: str
    periods: tuple[str, ...]
    sides: tuple[str, ...]  # above/below/increasing/decreasing, as they occur; empty for sideless tests


@dataclass(frozen=True, kw_only=True)
class KpiOutlook:
    code: str
    name: str
    unit: str
    direction: Direction
    period_kind: PeriodKind
    current: Period  # the running period (the forecast's first point)
    history: tuple[OutlookPeriod, ...]
    classification: KpiClassification
    limits: ControlLimits | None
    signals: tuple[ControlSignal, ...]
    signals_reason: str
    forecast: KpiForecast | None  # None when not asked for

    @property
    def word(self) -> Word:
        return self.classification.word

    @property
    def word_label(self) -> str:
        return WORD_LABELS[self.classification.word]

    @property
    def trend(self) -> TrendTest | None:
        return self.classification.trend

    @property
    def current_run(self) -> Run | None:
        return self.classification.runs.current

    @property
    def longest_misses(self) -> int:
        return self.classification.runs.longest("miss")

    @property
    def longest_exceedances(self) -> int:
        return self.classification.runs.longest("exceedance")

    def rule_signals(self) -> list[RuleSignals]:
        """The signals grouped by rule, in the rules' order."""
        by_rule: dict[Rule, list[ControlSignal]] = defaultdict(list)
        for s in self.signals:
            by_rule[s.rule].append(s)
        return [
            RuleSignals(
                rule=rule,
                name=RULE_NAMES[rule],
                wording=RULE_WORDING[rule],
                periods=tuple(str(s.label) for s in by_rule[rule]),
                sides=tuple(dict.fromkeys(s.side for s in by_rule[rule] if s.side)),
            )
            for rule in RULES
            if by_rule.get(rule)
        ]


# (code, history, terms, current) -> forecast. Bounded; keyed on the exact inputs, so never stale.
_FORECAST_CACHE: OrderedDict[tuple[object, ...], KpiForecast] = OrderedDict()
_FORECAST_CACHE_SIZE = 2048
_FORECAST_LOCK = threading.Lock()


def forecast_cache_clear() -> None:
    with _FORECAST_LOCK:
        _FORECAST_CACHE.clear()


def _forecast(
    *,
    history: Sequence[tuple[Period, Decimal | None]],
    points: tuple[tuple[str, Decimal | None], ...],
    terms: KpiTerms,
    current: Period,
    simple: bool,
) -> KpiForecast:
    """``kpi_forecast``, memoised; ``points``: the history as (period label, value), its key (labels name the kind)."""
    key = (terms.code, points, terms, current, simple)
    with _FORECAST_LOCK:
        held = _FORECAST_CACHE.get(key)
        if held is not None:
            _FORECAST_CACHE.move_to_end(key)
            return held
    fresh = kpi_forecast(history=history, terms=terms, current=current, simple=simple)
    with _FORECAST_LOCK:
        _FORECAST_CACHE[key] = fresh
        while len(_FORECAST_CACHE) > _FORECAST_CACHE_SIZE:
            _FORECAST_CACHE.popitem(last=False)
    return fresh


@dataclass(frozen=True, kw_only=True)
class AgreedKpis:
    """What the outlook needs of one agreed version: when it took effect and its active KPIs with their terms."""

    number: int
    effective_from: date
    kpis: Mapping[str, VersionKpi]  # active KPIs by code, in agreed order
    terms: Mapping[str, KpiTerms]


def _in_force(versions: Sequence[AgreedKpis], day: date) -> AgreedKpis | None:
    """The agreed version in force on a day (the rule of ``kpis.selectors.version_in_force``)."""
    live = [v for v in versions if v.effective_from <= day]
    return max(live, key=lambda v: (v.effective_from, v.number)) if live else None


def _control(
    points: list[tuple[str, Decimal | None]],
) -> tuple[ControlLimits | None, tuple[ControlSignal, ...], str]:
    count = sum(v is not None for _, v in points)
    if count < CONTROL_MIN_POINTS:
        return None, (), f"Not checked: {count} values; a control chart needs at least {CONTROL_MIN_POINTS}."
    limits = control_limits_estimate(points)
    signals = control_signals(points=points, limits=limits, rules=RULES)
    return (
        limits,
        signals,
        f"Individuals chart of {limits.points} values: centre line {limits.centre:.6g}, sigma {limits.sigma:.6g} "
        f"(average moving range / 1.128).",
    )


def kpi_outlooks(
    *,
    engagement: Engagement,
    now: datetime,
    codes: Collection[str] | None = None,
    forecast: ForecastChoice = "best",
) -> dict[str, KpiOutlook]:
    """Every KPI in force today (or those of ``codes``), in agreed order: history, trend, signals, forecast.

    Four queries whatever the number of KPIs and periods. ``forecast``: "best" (ETS when the
    history allows, docs/trends.md), "simple" (the mean method: no model fitted, for pages showing
    many KPIs) or "none" (the scorecard's trend column needs no forecast).
    """
    rows = list(
        AgreementVersion.objects.filter(
            engagement=engagement, status=AgreementVersion.Status.AGREED, effective_from__isnull=False
        ).order_by("effective_from", "number")
    )
    today = local_date(now, engagement.time_zone)
    if not any(v.effective_from is not None and v.effective_from <= today for v in rows):
        return {}  # nothing in force yet: no need to read the KPIs
    kpis_by_version: dict[int, dict[str, VersionKpi]] = defaultdict(dict)
    for kpi in (
        VersionKpi.objects.filter(version__in=rows, active=True)
        .prefetch_related(Prefetch("milestones", queryset=Milestone.objects.order_by("date")))
        .order_by("position", "id")
    ):
        kpis_by_version[kpi.version_id][kpi.code] = kpi
    versions = [
        AgreedKpis(
            number=v.number,
            effective_from=v.effective_from,
            kpis=kpis_by_version[v.pk],
            terms={code: kpi_terms(k) for code, k in kpis_by_version[v.pk].items()},
        )
        for v in rows
        if v.effective_from is not None
    ]
    query = Measurement.objects.filter(engagement=engagement)
    if codes is not None:
        query = query.filter(kpi_code__in=list(codes))
    values: dict[tuple[str, str, date], Decimal | None] = {
        (code, kind, start): value
        for code, kind, start, value in query.values_list("kpi_code", "period_kind", "period_start", "value")
    }
    return outlooks_build(
        engagement=engagement, now=now, versions=versions, values=values, codes=codes, forecast=forecast
    )


@lru_cache(maxsize=4096)
def _statistics(
    points: tuple[tuple[str, Decimal | None], ...], targets: tuple[Decimal | None, ...], direction: Direction
) -> tuple[KpiClassification, tuple[ControlLimits | None, tuple[ControlSignal, ...], str]]:
    """Classification and control chart of one history: pure, so cached on its exact inputs.

    A dashboard asks for every tile's on each request and the poll; the tests (Mann-Kendall, the
    sign test) cost milliseconds per KPI, which twenty tiles turn into the page's largest cost.
    """
    classification = kpi_classify(points=points, targets=targets, direction=direction)
    return classification, _control(list(points))


def outlooks_build(
    *,
    engagement: Engagement,
    now: datetime,
    versions: Sequence[AgreedKpis],
    values: Mapping[tuple[str, str, date], Decimal | None],
    codes: Collection[str] | None = None,
    forecast: ForecastChoice = "best",
) -> dict[str, KpiOutlook]:
    """The outlooks from versions and values already loaded (no query): pages that hold them pass them in.

    ``values``: stored values by (KPI code, period kind, period start); those of periods not closed
    yet are ignored.
    """
    today = local_date(now, engagement.time_zone)
    in_force_now = _in_force(versions, today)
    if in_force_now is None:
        return {}
    wanted = [k for k in in_force_now.kpis.values() if codes is None or k.code in codes]
    out: dict[str, KpiOutlook] = {}
    # Every KPI of a kind walks the same periods under the same versions: found once per kind, not per KPI.
    walks: dict[PeriodKind, list[tuple[Period, AgreedKpis | None]]] = {}
    for kpi in wanted:
        kind = cast(PeriodKind, kpi.period)
        if kind not in walks:
            first = Period.containing(kind, engagement.start_date)
            last = min(
                latest_closed_period(kind, now=now, tz=engagement.time_zone),
                Period.containing(kind, engagement.end_date),
            )
            walks[kind] = [(p, _in_force(versions, p.start)) for p in periods_between(kind, first, last)]
        current = Period.containing(kind, min(max(today, engagement.start_date), engagement.end_date))
        code = kpi.code
        history: list[OutlookPeriod] = []
        # The statistics' and the forecast's cache keys, built along (not from the history afterwards).
        points: list[tuple[str, Decimal | None]] = []
        targets: list[Decimal | None] = []
        series: list[tuple[Period, Decimal | None]] = []
        judged_by: AgreedKpis | None = None
        memo: ResultMemo = {}
        for period, version in walks[kind]:
            held = version.kpis.get(code) if version is not None else None
            if held is not None and held.period != kind:
                held = None
            if held is None and not history:
                continue  # not agreed yet: the history starts when the KPI does
            value = values.get((code, kind, period.start))
            if version is None or held is None:
                entry = OutlookPeriod(period, value, None, None, None)
            else:
                terms = version.terms[code]
                if version is not judged_by:  # the terms hashed once per KPI and version, not per period
                    judged_by, memo = version, kpi_results_memo(terms)
                result = kpi_result_memoised(terms=terms, value=value, period_last_day=period.last_day, memo=memo)
                entry = OutlookPeriod(period, value, result.target, result.status, version.number)
            history.append(entry)
            points.append((period.label, value))
            targets.append(entry.target)
            series.append((period, value))
        labelled = tuple(points)
        classification, (limits, signals, reason) = _statistics(
            labelled, tuple(targets), cast(Direction, kpi.direction)
        )
        out[kpi.code] = KpiOutlook(
            code=kpi.code,
            name=kpi.name,
            unit=kpi.unit,
            direction=cast(Direction, kpi.direction),
            period_kind=kind,
            current=current,
            history=tuple(history),
            classification=classification,
            limits=limits,
            signals=signals,
            signals_reason=reason,
            forecast=(
                _forecast(
                    history=series,
                    points=labelled,
                    terms=in_force_now.terms[kpi.code],
                    current=current,
                    simple=forecast == "simple",
                )
                if forecast != "none"
                else None
            ),
        )
    return out


def _run(run: Run) -> dict[str, object]:
    return {"kind": run.kind, "length": run.length, "first": str(run.labels[0]), "last": str(run.labels[-1])}


def outlook_as_dict(outlook: KpiOutlook) -> dict[str, object]:
    """An outlook in the API's JSON shape (``measurements.api.OutlookOut``): values as stored, statistics as floats."""
    c = outlook.classification
    trend = c.trend
    fc = outlook.forecast
    return {
        "code": outlook.code,
        "name": outlook.name,
        "unit": outlook.unit,
        "direction": outlook.direction,
        "period_kind": outlook.period_kind,
        "current_period": outlook.current.label,
        "classification": {
            "word": c.word,
            "label": outlook.word_label,
            "reason": c.reason,
            "periods": c.periods,
            "window": c.window,
            "misses": c.misses,
            "exceedances": c.exceedances,
            "on_target": c.on_target,
            "p_under": c.p_under,
            "p_over": c.p_over,
        },
        "trend": None
        if trend is None
        else {
            "word": trend.word,
            "n": trend.n,
            "s": trend.s,
            "var_s": trend.var_s,
            "z": trend.z,
            "p_value": trend.p_value,
            "tau": trend.tau,
            "slope": trend.slope,
            "alpha": trend.alpha,
        },
        "runs": {
            "current": _run(outlook.current_run) if outlook.current_run else None,
            "longest_misses": outlook.longest_misses,
            "longest_exceedances": outlook.longest_exceedances,
            "runs": [_run(r) for r in c.runs.runs],
        },
        "control_chart": {
            "centre": outlook.limits.centre if outlook.limits else None,
            "sigma": outlook.limits.sigma if outlook.limits else None,
            "reason": outlook.signals_reason,
            "signals": [
                {
                    "rule": s.rule,
                    "name": RULE_NAMES[s.rule],
                    "wording": s.wording,
                    "period": str(s.label),
                    "value": s.value,
                    "side": s.side,
                }
                for s in outlook.signals
            ],
        },
        "forecast": None
        if fc is None
        else {
            "method": fc.method,
            "method_name": fc.method_name,
            "model": fc.model,
            "history_points": fc.history_points,
            "filled": fc.filled,
            "last_period": fc.last_period.label if fc.last_period else None,
            "points": [
                {
                    "period": p.period.label,
                    "reason": p.reason,
                    "milestone_date": p.milestone_date.isoformat() if p.milestone_date else None,
                    "horizon": p.horizon,
                    "mean": p.mean,
                    "lower_80": p.lower_80,
                    "upper_80": p.upper_80,
                    "lower_95": p.lower_95,
                    "upper_95": p.upper_95,
                    "target": p.target,
                    "probability_meeting": p.probability_meeting,
                }
                for p in fc.points
            ],
        },
        "history": [
            {
                "period": h.period.label,
                "value": h.value,
                "target": h.target,
                "status": h.status,
                "agreement_version": h.version_number,
            }
            for h in outlook.history
        ],
    }
