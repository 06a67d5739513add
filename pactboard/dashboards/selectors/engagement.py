"""The engagement dashboard: a tile per KPI and the weighted score."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from pactboard.accounts.models import Membership
from pactboard.core.errors import PactboardError
from pactboard.core.periods import Period, PeriodKind, periods_between
from pactboard.dashboards.selectors.common import (
    ATTENTION_STATUSES,
    KIND_PREFERENCE,
    SPARK_PERIODS,
    _current_period,
    _value_of,
    agreed_sets,
    closed_period,
    display_period,
    kind_of,
    local_today,
    outlook_versions,
    set_in_force,
    values_read,
)
from pactboard.dashboards.selectors.stamps import EngagementState, engagement_state
from pactboard.engagements.models import BusinessChange, Engagement
from pactboard.engagements.selectors import business_change_list
from pactboard.kpis.models import AgreementVersion, VersionKpi
from pactboard.measurements.outlook import KpiOutlook, outlooks_build
from pactboard.scoring import (
    KpiResult,
    Scorecard,
    Trend,
    scorecard_compute,
    trend_direction,
    trend_is_better,
)


@dataclass(frozen=True)
class KpiTile:
    """One KPI on the dashboard: its value for its period, judged; its last periods; its arrow."""

    kpi: VersionKpi
    period: Period
    result: KpiResult
    history: tuple[tuple[Period, Decimal | None], ...]
    trend: Trend | None
    trend_better: bool | None
    updated_at: datetime | None
    revision_count: int
    source: str
    in_score: bool
    # Trend word and forecast as of today; None for a KPI not in the version in force today.
    outlook: KpiOutlook | None = None


@dataclass(frozen=True)
class KindScore:
    """The scorecard of the KPIs of one period kind (the page's own kind, or another one beside it)."""

    kind: PeriodKind
    period: Period
    scorecard: Scorecard


@dataclass(frozen=True)
class EngagementDashboard:
    engagement: Engagement
    version: AgreementVersion | None
    period: Period | None
    periods: list[Period]
    tiles: list[KpiTile]
    scorecard: Scorecard | None
    other_scores: list[KindScore]
    last_arrival: datetime | None
    changes: list[BusinessChange]
    stamp: str
    period_error: str = ""
    in_progress: bool = False  # the period shown has not ended: its values are partial

    @property
    def attention(self) -> list[KpiTile]:
        return [t for t in self.tiles if t.result.status in ATTENTION_STATUSES]


def engagement_dashboard(
    *,
    membership: Membership | None,
    engagement: Engagement,
    period_label: str = "",
    now: datetime | None = None,
    state: EngagementState | None = None,
) -> EngagementDashboard:
    """Tiles for every KPI of the version in force in the chosen period (default: the latest closed one).

    ``state``: the engagement's stamp when the caller has just read it (the view does, for the poll);
    its newest value's time is the page's "last value arrived".
    """
    now = now or timezone.now()
    state = state if state is not None else engagement_state(engagement_id=engagement.pk)
    stamp, last_arrival = state.text, state.values_at
    sets = agreed_sets(engagement_ids=[engagement.pk]).get(engagement.pk, [])
    changes = business_change_list(membership=membership, engagement=engagement)[:5]
    current = set_in_force(sets, local_today(engagement, now)) or (sets[0] if sets else None)
    if current is None:
        return EngagementDashboard(engagement, None, None, [], [], None, [], last_arrival, changes, stamp)

    kind = current.main_kind
    running = _current_period(kind, engagement, now)
    default = closed_period(kind, engagement, now) or running
    # The running period is offered (it is shown only when chosen); periods not yet begun are not.
    periods = periods_between(kind, Period.containing(kind, engagement.start_date), running)
    selected, error = default, ""
    if period_label:
        try:
            chosen = Period.parse(period_label, kind)
        except PactboardError as exc:
            error = exc.message
        else:
            if chosen.start > local_today(engagement, now):
                error = f"{chosen.label} has not started: there is nothing to show for it yet."
            else:
                selected = chosen
    agreed = set_in_force(sets, selected.start) or current

    display: dict[PeriodKind, Period] = {k: display_period(k, selected) for k in {kind_of(kpi) for kpi in agreed.kpis}}
    # Every value of these KPIs (the outlooks read their whole history); the tiles pick their window and
    # print the change time of the period each shows.
    stored = values_read(
        engagement_id=engagement.pk,
        codes=[k.code for k in agreed.kpis],
        shown={(p.kind, p.start) for p in display.values()},
    )
    outlooks = outlooks_build(
        engagement=engagement,
        now=now,
        versions=outlook_versions(sets),
        values={key: v.value for key, v in stored.items()},
        codes=[k.code for k in agreed.kpis],
        # The mean method: fitting ETS for every tile takes seconds (docs/trends.md, "Cost"); the tile says so.
        forecast="simple",
    )
    cards: dict[PeriodKind, Scorecard] = {}
    for k_kind, k_period in display.items():
        terms = [agreed.terms[k.code] for k in agreed.kpis if k.period == k_kind]
        values = {t.code: _value_of(stored, t.code, k_period) for t in terms}
        cards[k_kind] = scorecard_compute(terms=terms, values=values, period_last_day=k_period.last_day)

    tiles: list[KpiTile] = []
    for kpi in agreed.kpis:
        k_period = display[kind_of(kpi)]
        window = [k_period.shift(i) for i in range(1 - SPARK_PERIODS, 1)]
        history = tuple((p, _value_of(stored, kpi.code, p)) for p in window)
        result = cards[kind_of(kpi)].result(kpi.code)
        trend = trend_direction(values=[v for _, v in history], target=result.target)
        held = stored.get((kpi.code, k_period.kind, k_period.start))
        tiles.append(
            KpiTile(
                kpi=kpi,
                period=k_period,
                result=result,
                history=history,
                trend=trend,
                trend_better=trend_is_better(trend=trend, direction=kpi.direction),  # type: ignore[arg-type]
                updated_at=held.updated_at if held else None,
                revision_count=held.revision_count if held else 0,
                source=held.source if held else "",
                in_score=kpi.period == selected.kind,
                outlook=outlooks.get(kpi.code),
            )
        )
    other = [
        KindScore(kind=k_kind, period=display[k_kind], scorecard=card)
        for k_kind, card in sorted(cards.items(), key=lambda item: KIND_PREFERENCE.index(item[0]))
        if k_kind != selected.kind
    ]
    return EngagementDashboard(
        engagement=engagement,
        version=agreed.version,
        period=selected,
        periods=periods,
        tiles=tiles,
        scorecard=cards.get(selected.kind),
        other_scores=other,
        last_arrival=last_arrival,
        changes=changes,
        stamp=stamp,
        period_error=error,
        in_progress=selected.end > local_today(engagement, now),
    )
