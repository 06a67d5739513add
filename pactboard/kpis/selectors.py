"""Reads for KPI agreements. Every query starts from ``visible_to`` of the actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from django.db.models import Count, Prefetch, Q, QuerySet

from pactboard.accounts.models import Membership
from pactboard.core.errors import not_found
from pactboard.core.periods import Period, PeriodKind, local_date, periods_between
from pactboard.engagements.models import Engagement
from pactboard.kpis.catalogue import CATALOGUE, CatalogueKpi
from pactboard.kpis.content import VersionDiff, content_diff
from pactboard.kpis.models import (
    AgreementVersion,
    Comment,
    CustomKpi,
    Milestone,
    Signature,
    VersionKpi,
    VersionKpiObjective,
)
from pactboard.scoring import KpiTerms
from pactboard.scoring import Milestone as TermsMilestone

Status = AgreementVersion.Status


def version_kpis(*, version: AgreementVersion) -> QuerySet[VersionKpi]:
    """A version's KPIs with milestones and objective links, in two extra queries whatever their number."""
    return (
        VersionKpi.objects.filter(version=version)
        .prefetch_related(
            Prefetch("milestones", queryset=Milestone.objects.order_by("date")),
            "objective_links__objective",
        )
        .order_by("position", "id")
    )


def kpi_content(kpi: VersionKpi) -> dict[str, Any]:
    return {
        "code": kpi.code,
        "name": kpi.name,
        "catalogue_code": kpi.catalogue_code,
        "category": kpi.category,
        "unit": kpi.unit,
        "direction": kpi.direction,
        "definition": kpi.definition,
        "period": kpi.period,
        "target": kpi.target,
        "amber": kpi.amber,
        "stretch": kpi.stretch,
        "weight": kpi.weight,
        "baseline_value": kpi.baseline_value,
        "baseline_period": kpi.baseline_period,
        "baseline_source": kpi.baseline_source,
        "source": kpi.source,
        "dataset": kpi.dataset,
        "formula": kpi.formula,
        "row_filter": kpi.row_filter,
        "min_value": kpi.min_value,
        "max_value": kpi.max_value,
        "active": kpi.active,
        "objectives": sorted(link.objective.key for link in kpi.objective_links.all()),
        "milestones": [
            {"date": m.date, "target": m.target, "amber": m.amber, "stretch": m.stretch, "note": m.note}
            for m in kpi.milestones.all()
        ],
    }


def version_content(*, version: AgreementVersion) -> dict[str, Any]:
    """What a version says: the content that is hashed, signed, diffed and exported."""
    content: dict[str, Any] = {
        "effective_from": version.effective_from,
        "max_active_kpis": version.max_active_kpis,
        "kpis": [kpi_content(k) for k in version_kpis(version=version)],
    }
    # Only when there is one: versions signed before schemes existed keep their hash.
    if version.incentive_scheme is not None:
        content["incentive_scheme"] = version.incentive_scheme
    return content


def version_list(*, membership: Membership | None, engagement: Engagement) -> QuerySet[AgreementVersion]:
    return (
        AgreementVersion.objects.visible_to(membership)
        .filter(engagement=engagement)
        .select_related("proposed_by_org", "created_by_org")
        .prefetch_related("signatures__organisation", "signatures__signer")
        .annotate(kpi_count=Count("kpis"))
        .order_by("-number")
    )


def version_get(*, membership: Membership | None, version_id: int) -> AgreementVersion:
    version = (
        AgreementVersion.objects.visible_to(membership)
        .select_related("engagement__client", "engagement__provider", "proposed_by_org", "based_on")
        .filter(pk=version_id)
        .first()
    )
    if version is None:
        raise not_found("No such agreement version.")
    return version


def version_kpi_get(*, membership: Membership | None, kpi_id: int) -> VersionKpi:
    kpi = VersionKpi.objects.visible_to(membership).select_related("version__engagement").filter(pk=kpi_id).first()
    if kpi is None:
        raise not_found("No such KPI.")
    return kpi


def version_in_force(*, engagement: Engagement, on: date) -> AgreementVersion | None:
    """The agreed version in force on a day: the latest effective date on or before it (then the highest number)."""
    return (
        AgreementVersion.objects.filter(engagement=engagement, status=Status.AGREED, effective_from__lte=on)
        .order_by("-effective_from", "-number")
        .first()
    )


def _version_kinds(version: AgreementVersion) -> list[PeriodKind]:
    kinds = set(VersionKpi.objects.filter(version=version, active=True).values_list("period", flat=True))
    return sorted((cast(PeriodKind, k) for k in kinds), key=("week", "month", "quarter").index) or ["month"]


def version_next_period_start(*, version: AgreementVersion, now: datetime) -> date:
    """A proposal's default effective date: the first day after the running period, in the engagement's zone.

    With KPIs of several period kinds, the longest kind's next period, so no running period of any
    kind is re-scored. Kept within the engagement's dates.
    """
    engagement = version.engagement
    today = local_date(now, engagement.time_zone)
    kind = _version_kinds(version)[-1]
    start = Period.containing(kind, max(today, engagement.start_date)).next().start
    return min(start, engagement.end_date)


def version_rescored_periods(
    *, version: AgreementVersion, now: datetime, effective_from: date | None = None
) -> list[Period]:
    """The periods already begun (by ``now``) and scored under another agreed version that this one re-scores.

    A version is scored in each period starting on or after its effective date; a period that had
    begun under an earlier agreement changes its terms retroactively. Empty for a first agreement.
    """
    effective_from = effective_from or version.effective_from
    if effective_from is None:
        return []
    engagement = version.engagement
    earlier = (
        AgreementVersion.objects.filter(engagement=engagement, status=Status.AGREED, effective_from__isnull=False)
        .exclude(pk=version.pk)
        .order_by("effective_from")
        .values_list("effective_from", flat=True)
        .first()
    )
    if earlier is None:
        return []
    first = max(effective_from, earlier, engagement.start_date)
    last = min(local_date(now, engagement.time_zone), engagement.end_date)
    out: list[Period] = []
    for kind in _version_kinds(version):
        start = Period.containing(kind, first)
        if start.start < first:  # a period that began before the date keeps its terms
            start = start.next()
        out.extend(periods_between(kind, start, Period.containing(kind, last)))
    return out


def rescored_text(periods: list[Period]) -> str:
    """``2026-01 to 2026-11`` (or the one label; lists of several kinds name each kind's range)."""
    by_kind: dict[str, list[Period]] = {}
    for p in periods:
        by_kind.setdefault(p.kind, []).append(p)
    return "; ".join(ps[0].label if len(ps) == 1 else f"{ps[0].label} to {ps[-1].label}" for ps in by_kind.values())


def version_current(*, engagement: Engagement) -> AgreementVersion | None:
    """The newest version still in play (draft, proposed or agreed)."""
    return (
        AgreementVersion.objects.filter(
            engagement=engagement, status__in=[Status.DRAFT, Status.PROPOSED, Status.AGREED]
        )
        .order_by("-number")
        .first()
    )


def versions_awaiting_signature(*, membership: Membership) -> QuerySet[AgreementVersion]:
    """Proposals of the actor's engagements that the actor's organisation has not signed yet."""
    return (
        AgreementVersion.objects.visible_to(membership)
        .filter(status=Status.PROPOSED)
        .exclude(signatures__organisation_id=membership.organisation_id)
        .select_related("engagement", "proposed_by_org")
        .order_by("proposed_at")
    )


@dataclass(frozen=True)
class KpiCountWarning:
    active: int
    limit: int

    @property
    def message(self) -> str:
        return (
            f"{self.active} active KPIs: more than the {self.limit} this engagement aims for. "
            "Too many KPIs dilute attention; consider retiring or merging some."
        )


def version_kpi_count_warning(*, version: AgreementVersion) -> KpiCountWarning | None:
    """A warning (never a refusal) when a version carries more active KPIs than its limit."""
    active = version.kpis.filter(active=True).count()
    return KpiCountWarning(active, version.max_active_kpis) if active > version.max_active_kpis else None


def kpi_terms(kpi: VersionKpi) -> KpiTerms:
    """The scoring terms of one KPI, as pure values for pactboard.scoring (prefetch its milestones)."""
    return KpiTerms(
        code=kpi.code,
        direction=kpi.direction,  # type: ignore[arg-type]
        target=kpi.target,
        amber=kpi.amber,
        stretch=kpi.stretch,
        weight=kpi.weight,
        milestones=tuple(
            TermsMilestone(date=m.date, target=m.target, amber=m.amber, stretch=m.stretch) for m in kpi.milestones.all()
        ),
    )


def version_terms(*, version: AgreementVersion) -> list[KpiTerms]:
    """The scoring terms of a version's active KPIs."""
    return [kpi_terms(k) for k in version_kpis(version=version) if k.active]


def version_diff(*, before: AgreementVersion, after: AgreementVersion) -> VersionDiff:
    return content_diff(version_content(version=before), version_content(version=after))


def version_signatures(*, version: AgreementVersion) -> QuerySet[Signature]:
    return version.signatures.select_related("organisation", "signer").order_by("signed_at")


def version_comments(*, version: AgreementVersion) -> QuerySet[Comment]:
    """A version's comments, oldest first, with their authors and organisations."""
    return version.comments.select_related("author", "organisation").order_by("created_at")


def objective_kpi_counts(*, objective_ids: list[int]) -> dict[int, int]:
    """How many KPIs of its engagement's current version (draft, proposed or agreed) measure each objective."""
    counts = dict.fromkeys(objective_ids, 0)
    if not objective_ids:
        return counts
    engagement_ids = set(Engagement.objects.filter(objectives__id__in=objective_ids).values_list("id", flat=True))
    newest: dict[int, tuple[int, int]] = {}
    for version_id, engagement_id, number in AgreementVersion.objects.filter(
        engagement_id__in=engagement_ids, status__in=[Status.DRAFT, Status.PROPOSED, Status.AGREED]
    ).values_list("id", "engagement_id", "number"):
        if engagement_id not in newest or number > newest[engagement_id][1]:
            newest[engagement_id] = (version_id, number)
    current_ids = [v[0] for v in newest.values()]
    rows = (
        VersionKpiObjective.objects.filter(version_kpi__version_id__in=current_ids, objective_id__in=objective_ids)
        .values("objective_id")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["objective_id"]] = row["n"]
    return counts


def catalogue_entries(*, membership: Membership | None, query: str = "") -> tuple[list[CatalogueKpi], list[CustomKpi]]:
    """Standard KPIs and the actor organisation's custom KPIs matching ``query``."""
    text = query.strip().lower()
    standard = [
        k
        for k in CATALOGUE
        if not text or text in f"{k.code} {k.name} {k.definition} {k.category} {' '.join(k.aliases)}".lower()
    ]
    custom = CustomKpi.objects.visible_to(membership)
    if text:
        custom = custom.filter(Q(code__icontains=text) | Q(name__icontains=text) | Q(definition__icontains=text))
    return standard, list(custom.order_by("code", "pk"))


def engagement_kpi_names(*, engagement: Engagement) -> dict[str, str]:
    """Every KPI code any version of the engagement has used, with its newest name (for choices and labels)."""
    names: dict[str, str] = {}
    for code, name in (
        VersionKpi.objects.filter(version__engagement=engagement)
        .order_by("-version__number", "position")
        .values_list("code", "name")
    ):
        names.setdefault(code, name)
    return dict(sorted(names.items(), key=lambda item: item[1].lower()))
