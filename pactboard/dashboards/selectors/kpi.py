"""A KPI's page: its series of values against the terms in force."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from pactboard.accounts.models import Membership
from pactboard.core.errors import not_found
from pactboard.core.periods import Period, periods_between
from pactboard.dashboards.selectors.common import (
    _VALUE_FIELDS,
    _current_period,
    _values,
    agreed_sets,
    kind_of,
    local_today,
    now_or_clock,
    outlook_versions,
    set_in_force,
)
from pactboard.dashboards.selectors.stamps import engagement_stamp
from pactboard.engagements.models import BusinessChange, Engagement
from pactboard.engagements.selectors import business_change_list
from pactboard.kpis.models import AgreementVersion, Milestone, VersionKpi
from pactboard.measurements.models import Measurement
from pactboard.measurements.outlook import KpiOutlook, outlooks_build
from pactboard.scoring import (
    KpiResult,
    scorecard_compute,
)


@dataclass(frozen=True)
class KpiPoint:
    """One period of a KPI: its value (if any) judged against the target in force then."""

    period: Period
    result: KpiResult
    updated_at: datetime | None
    revision_count: int
    source: str
    in_progress: bool = False  # the period has not ended: its value is partial


@dataclass(frozen=True)
class KpiSeries:
    engagement: Engagement
    kpi: VersionKpi
    version: AgreementVersion
    points: list[KpiPoint]
    changes: list[BusinessChange]
    stamp: str
    milestones: list[Milestone] = field(default_factory=list)
    # Trend, control chart and forecast; None for a KPI not in the version in force today.
    outlook: KpiOutlook | None = None

    @property
    def latest(self) -> KpiPoint | None:
        """The newest closed period with a value (a running period's partial value is not "latest")."""
        return next((p for p in reversed(self.points) if p.result.value is not None and not p.in_progress), None)

    @property
    def with_data(self) -> list[KpiPoint]:
        return [p for p in self.points if p.result.value is not None]

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(p.result.status for p in self.with_data)
        return {s: counted.get(s, 0) for s in ("exceeded", "met", "at_risk", "missed")}


def kpi_series(
    *,
    membership: Membership | None,
    engagement: Engagement,
    kpi_code: str,
    now: datetime | None = None,
    stamp: str | None = None,
) -> KpiSeries:
    """Every period of one KPI from the engagement's start, each judged by the version in force then,
    and its outlook (from the same rows: no more queries). ``stamp``: the engagement's, if just read."""
    now = now_or_clock(now)
    stamp = stamp if stamp is not None else engagement_stamp(engagement_id=engagement.pk)
    sets = agreed_sets(engagement_ids=[engagement.pk]).get(engagement.pk, [])
    today = local_today(engagement, now)
    current = set_in_force(sets, today)
    shown = current if current is not None and current.kpi(kpi_code) else None
    if shown is None:
        # A KPI retired or not yet in force: its newest agreed definition.
        shown = next((s for s in sets if s.kpi(kpi_code)), None)
    if shown is None:
        raise not_found("No such KPI in this engagement's agreements.")
    kpi = shown.kpi(kpi_code)
    assert kpi is not None
    kind = kind_of(kpi)
    stored = _values(
        Measurement.objects.filter(engagement=engagement, kpi_code=kpi_code, period_kind=kind).values_list(
            *_VALUE_FIELDS
        )
    )
    # Up to the running period: a stored value for a later one (refused since) is not a reason to show it.
    last = _current_period(kind, engagement, now)
    points: list[KpiPoint] = []
    for period in periods_between(kind, Period.containing(kind, engagement.start_date), last):
        in_force = set_in_force(sets, period.start)
        terms = in_force.terms.get(kpi_code) if in_force else None
        terms = terms or shown.terms[kpi_code]
        held = stored.get((kpi_code, kind, period.start))
        card = scorecard_compute(
            terms=[terms], values={kpi_code: held.value if held else None}, period_last_day=period.last_day
        )
        points.append(
            KpiPoint(
                period=period,
                result=card.results[0],
                updated_at=held.updated_at if held else None,
                revision_count=held.revision_count if held else 0,
                source=held.source if held else "",
                in_progress=period.end > today,
            )
        )
    return KpiSeries(
        engagement=engagement,
        kpi=kpi,
        version=shown.version,
        points=points,
        changes=business_change_list(membership=membership, engagement=engagement, kpi_code=kpi_code),
        stamp=stamp,
        milestones=list(kpi.milestones.all()),
        outlook=outlooks_build(
            engagement=engagement,
            now=now,
            versions=outlook_versions(sets),
            values={key: v.value for key, v in stored.items()},
            codes=[kpi_code],
        ).get(kpi_code),
    )
