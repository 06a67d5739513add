"""Writes for KPI agreements: drafts and their KPIs, and an organisation's custom KPIs.

Each service owns its transaction and writes its audit event. Content of a version changes
only while it is a draft (also enforced by ``save()`` and by database triggers). What happens
to a draft afterwards (proposals, comments, counter-proposals, withdrawals, signatures) is
``kpis.negotiation``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max

from pactboard.accounts.models import Membership
from pactboard.audit.services import audit_record
from pactboard.core.errors import ErrorDetail, PactboardError, forbidden, invalid
from pactboard.core.locks import for_update
from pactboard.engagements.models import Engagement, Objective
from pactboard.formulas.schema import STANDARD_SCHEMAS
from pactboard.kpis import policy, ports
from pactboard.kpis.catalogue import CATALOGUE
from pactboard.kpis.content import KPI_FIELDS
from pactboard.kpis.models import (
    AgreementVersion,
    CustomKpi,
    Milestone,
    VersionKpi,
    VersionKpiObjective,
)
from pactboard.kpis.spec import (
    KpiSpec,
    catalogue_entry,
    kpi_formula_check,
    kpi_spec_check,
    kpi_spec_with_catalogue,
)
from pactboard.scoring import Milestone as TermsMilestone

Status = AgreementVersion.Status

# A KPI's own fields: what the content lists, less its links (objectives, milestones), plus its code.
KPI_EDITABLE_FIELDS = ("code", *(f for f in KPI_FIELDS if f not in ("objectives", "milestones")))


@dataclass(frozen=True)
class MilestoneSpec:
    date: date
    target: Decimal
    amber: Decimal | None = None
    stretch: Decimal | None = None
    note: str = ""


def _audit(actor: Membership, action: str, version: AgreementVersion, **extra: Any) -> None:
    audit_record(
        actor=actor.user,
        organisation=actor.organisation,
        action=action,
        obj=version,
        engagement_id=version.engagement_id,
        **extra,
    )


def _copy_kpis(source: AgreementVersion, target: AgreementVersion) -> None:
    for kpi in source.kpis.prefetch_related("milestones", "objective_links"):
        milestones = list(kpi.milestones.all())
        links = [link.objective_id for link in kpi.objective_links.all()]
        kpi.pk = None
        kpi.version = target
        kpi.save()
        for m in milestones:
            Milestone.objects.create(
                version_kpi=kpi, date=m.date, target=m.target, amber=m.amber, stretch=m.stretch, note=m.note
            )
        VersionKpiObjective.objects.bulk_create(
            [VersionKpiObjective(version_kpi=kpi, objective_id=oid) for oid in links]
        )


def version_draft_start(
    *,
    actor: Membership,
    engagement: Engagement,
    based_on: AgreementVersion | None = None,
    note: str = "",
    empty: bool = False,
) -> AgreementVersion:
    """Open a new draft of the engagement's KPI set, copied from ``based_on`` (or the newest agreed version).

    With ``empty`` the draft starts with no KPIs (an engagement document supplies them) and the
    engagement's KPI limit; ``based_on`` still records which version it follows.
    """
    policy.draft_start_require(actor=actor, engagement=engagement)
    with transaction.atomic():
        locked = for_update(Engagement.objects.all()).get(pk=engagement.pk)
        if AgreementVersion.objects.filter(engagement=locked, status=Status.DRAFT).exists():
            raise PactboardError(
                "This engagement already has an open draft: edit it, or withdraw it first.", kind="conflict"
            )
        if based_on is None:
            based_on = (
                AgreementVersion.objects.filter(engagement=locked, status=Status.AGREED).order_by("-number").first()
            )
        elif based_on.engagement_id != locked.pk:
            raise invalid("The version to start from belongs to another engagement.")
        number = (AgreementVersion.objects.filter(engagement=locked).aggregate(n=Max("number"))["n"] or 0) + 1
        version = AgreementVersion.objects.create(
            engagement=locked,
            number=number,
            based_on=based_on,
            note=note,
            max_active_kpis=based_on.max_active_kpis if based_on and not empty else locked.max_active_kpis,
            # The incentive scheme is part of the agreement: a new draft or counter-proposal carries it on.
            incentive_scheme=based_on.incentive_scheme if based_on and not empty else None,
            created_by=actor.user,
            created_by_org=actor.organisation,
        )
        if based_on is not None and not empty:
            _copy_kpis(based_on, version)
        _audit(
            actor,
            "agreement.draft",
            version,
            after={"number": number, "based_on": based_on.number if based_on else None},
        )
    return version


def _clean_kpi_fields(
    *, version: AgreementVersion, fields: dict[str, Any], milestones: list[MilestoneSpec], editing: VersionKpi | None
) -> dict[str, Any]:
    """Fill defaults from the catalogue and check every rule (``kpis.spec``); raise one error listing every problem."""
    unknown = set(fields) - set(KPI_EDITABLE_FIELDS)
    if unknown:
        raise invalid(f"Unknown KPI fields: {', '.join(sorted(unknown))}.")
    catalogue_code = fields.get("catalogue_code") or ""
    if catalogue_code and catalogue_entry(catalogue_code) is None:
        raise invalid(
            f"No standard KPI has the code {catalogue_code!r}.",
            location="catalogue_code",
            code="unknown_catalogue_code",
        )
    spec = kpi_spec_with_catalogue(
        KpiSpec.from_fields(
            fields,
            milestones=[
                TermsMilestone(date=m.date, target=m.target, amber=m.amber, stretch=m.stretch) for m in milestones
            ],
        )
    )
    engagement = version.engagement
    errors = kpi_spec_check(
        spec,
        engagement_start=engagement.start_date,
        engagement_end=engagement.end_date,
        dataset_schema=lambda name: ports.dataset_schema_for()(engagement=engagement, name=name),
    )
    clash = version.kpis.filter(code=spec.code)
    if editing is not None:
        clash = clash.exclude(pk=editing.pk)
    if spec.code and clash.exists():
        errors.append(
            ErrorDetail(f"This version already has a KPI with the code {spec.code!r}.", "code", "duplicate_code")
        )
    if errors:
        raise PactboardError("The KPI could not be saved.", errors)
    return spec.stored_fields()


def _formula_check_early(*, version: AgreementVersion, fields: dict[str, Any], current: VersionKpi | None) -> None:
    """Compile the KPI's formula before the caller opens its write transaction.

    A formula check is the slow part of saving a KPI (a long formula takes a noticeable time);
    run inside the transaction, it would hold the database's write lock meanwhile (on SQLite,
    every tenant's). Compiled outcomes are remembered, so the full check inside finds it done.
    Problems are reported by that check, with every other problem of the KPI.
    """
    merged = {**(_kpi_audit(current) if current is not None else {}), **fields}
    try:
        spec = kpi_spec_with_catalogue(KpiSpec.from_fields(merged))
    except PactboardError:
        return
    if spec.source == "dataset" or spec.formula:
        engagement = version.engagement
        kpi_formula_check(
            dataset=spec.dataset,
            formula=spec.formula,
            row_filter=spec.row_filter,
            dataset_schema=lambda name: ports.dataset_schema_for()(engagement=engagement, name=name),
        )


def _objectives_for(version: AgreementVersion, objective_ids: list[int]) -> list[Objective]:
    if not objective_ids:
        raise PactboardError(
            "The KPI could not be saved.",
            [ErrorDetail("Link the KPI to at least one objective.", "objectives", "required")],
        )
    objectives = list(Objective.objects.filter(engagement_id=version.engagement_id, pk__in=objective_ids))
    if len(objectives) != len(set(objective_ids)):
        raise PactboardError(
            "The KPI could not be saved.",
            [ErrorDetail("Choose objectives of this engagement.", "objectives", "unknown_objective")],
        )
    return objectives


def version_kpi_add(
    *,
    actor: Membership,
    version: AgreementVersion,
    objective_ids: list[int],
    milestones: list[MilestoneSpec] | None = None,
    **fields: Any,
) -> VersionKpi:
    """Add a KPI (from the catalogue or custom) to a draft, linked to at least one objective."""
    milestones = milestones or []
    _formula_check_early(version=version, fields=fields, current=None)
    with transaction.atomic():
        locked = for_update(AgreementVersion.objects.all()).select_related("engagement").get(pk=version.pk)
        policy.version_require(actor=actor, version=locked, action="edit")
        data = _clean_kpi_fields(version=locked, fields=fields, milestones=milestones, editing=None)
        objectives = _objectives_for(locked, objective_ids)
        data.setdefault("position", locked.kpis.count())
        kpi = VersionKpi.objects.create(version=locked, **data)
        _save_children(kpi, objectives, milestones)
        _audit(actor, "agreement.kpi_add", locked, after=_kpi_audit(kpi))
    return kpi


def _save_children(kpi: VersionKpi, objectives: list[Objective], milestones: list[MilestoneSpec]) -> None:
    VersionKpiObjective.objects.bulk_create([VersionKpiObjective(version_kpi=kpi, objective=o) for o in objectives])
    Milestone.objects.bulk_create(
        [
            Milestone(version_kpi=kpi, date=m.date, target=m.target, amber=m.amber, stretch=m.stretch, note=m.note)
            for m in milestones
        ]
    )


def _kpi_audit(kpi: VersionKpi) -> dict[str, Any]:
    return {f: getattr(kpi, f) for f in KPI_EDITABLE_FIELDS}


def version_kpi_update(
    *,
    actor: Membership,
    kpi: VersionKpi,
    objective_ids: list[int] | None = None,
    milestones: list[MilestoneSpec] | None = None,
    **fields: Any,
) -> VersionKpi:
    """Change a KPI of a draft (fields, objective links, milestones)."""
    version = kpi.version
    _formula_check_early(version=version, fields=fields, current=VersionKpi.objects.filter(pk=kpi.pk).first())
    with transaction.atomic():
        locked = for_update(AgreementVersion.objects.all()).select_related("engagement").get(pk=version.pk)
        policy.version_require(actor=actor, version=locked, action="edit")
        current = VersionKpi.objects.get(pk=kpi.pk)
        before = _kpi_audit(current)
        merged = {**before, **fields}
        if milestones is None:
            milestones = [
                MilestoneSpec(date=m.date, target=m.target, amber=m.amber, stretch=m.stretch, note=m.note)
                for m in current.milestones.all()
            ]
        data = _clean_kpi_fields(version=locked, fields=merged, milestones=milestones, editing=current)
        if objective_ids is None:
            objective_ids = list(current.objective_links.values_list("objective_id", flat=True))
        objectives = _objectives_for(locked, objective_ids)
        for name, value in data.items():
            setattr(current, name, value)
        current.save()
        current.objective_links.all().delete()
        current.milestones.all().delete()
        _save_children(current, objectives, milestones)
        _audit(actor, "agreement.kpi_update", locked, before=before, after=_kpi_audit(current))
    return current


def version_kpi_remove(*, actor: Membership, kpi: VersionKpi) -> None:
    """Remove a KPI from a draft."""
    with transaction.atomic():
        locked = for_update(AgreementVersion.objects.all()).get(pk=kpi.version_id)
        policy.version_require(actor=actor, version=locked, action="edit")
        before = _kpi_audit(kpi)
        VersionKpi.objects.get(pk=kpi.pk).delete()
        _audit(actor, "agreement.kpi_remove", locked, before=before)


def custom_kpi_create(*, actor: Membership, **fields: Any) -> CustomKpi:
    """Add an organisation's own KPI definition to its catalogue."""
    if not actor.is_manager:
        raise forbidden("Only administrators and managers add custom KPIs.")
    kpi = CustomKpi(organisation=actor.organisation, **fields)
    errors: list[ErrorDetail] = []
    if kpi.formula:  # before the write transaction: compiling is the slow part
        errors.extend(
            kpi_formula_check(
                dataset=kpi.dataset,
                formula=kpi.formula,
                row_filter=kpi.row_filter,
                dataset_schema=STANDARD_SCHEMAS.get,
            )
        )
    with transaction.atomic():
        if CustomKpi.objects.filter(organisation=actor.organisation, code=kpi.code).exists() or any(
            k.code == kpi.code for k in CATALOGUE
        ):
            errors.append(ErrorDetail(f"The code {kpi.code!r} is taken: choose another.", "code", "duplicate_code"))
        try:
            kpi.full_clean(exclude=["organisation"])
        except Exception as exc:  # ValidationError
            for field_name, messages in getattr(exc, "message_dict", {"__all__": [str(exc)]}).items():
                errors.extend(
                    ErrorDetail(m, None if field_name == "__all__" else field_name, "invalid") for m in messages
                )
        if errors:
            raise PactboardError("The KPI could not be saved.", errors)
        kpi.save()
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="custom_kpi.create",
            obj=kpi,
            after={"code": kpi.code, "name": kpi.name},
        )
    return kpi
