"""Writes for KPI agreements: drafts, KPIs, proposals, comments, counter-proposals, signatures.

Each service owns its transaction and writes its audit event. Content of a version changes
only while it is a draft (also enforced by ``save()`` and by database triggers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from pactboard.accounts.models import Membership, Organisation, User
from pactboard.audit.services import audit_record
from pactboard.core.errors import ErrorDetail, PactboardError, forbidden, invalid
from pactboard.engagements.models import Engagement, Objective
from pactboard.kpis.catalogue import CATALOGUE
from pactboard.kpis.content import KPI_FIELDS, content_hash
from pactboard.kpis.models import (
    AgreementVersion,
    Comment,
    CustomKpi,
    DataSource,
    Milestone,
    Signature,
    VersionKpi,
    VersionKpiObjective,
    code_validator,
)
from pactboard.kpis.selectors import (
    rescored_text,
    version_content,
    version_next_period_start,
    version_rescored_periods,
)
from pactboard.kpis.signals import version_agreed
from pactboard.measurements.formulas import formula_compile
from pactboard.measurements.schema import STANDARD_SCHEMAS
from pactboard.measurements.selectors import dataset_schema_for
from pactboard.scoring import Milestone as TermsMilestone
from pactboard.scoring import kpi_terms_check

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


def _require_party_manager(actor: Membership, engagement: Engagement) -> str:
    side = engagement.party_role(actor.organisation_id)
    if side is None:
        raise PactboardError("No such engagement.", kind="not_found")
    if not actor.is_manager:
        raise forbidden("Only administrators and managers of either party draft, propose and sign KPI agreements.")
    return side


def _require_draft(version: AgreementVersion) -> None:
    if version.status != Status.DRAFT:
        raise PactboardError(
            f"Version {version.number} is {version.get_status_display().lower()} and can no longer change: "
            "start a new draft based on it.",
            kind="conflict",
        )


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
    _require_party_manager(actor, engagement)
    with transaction.atomic():
        locked = Engagement.objects.select_for_update().get(pk=engagement.pk)
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
    """Fill defaults from the catalogue and check every rule; raise one error listing every problem."""
    unknown = set(fields) - set(KPI_EDITABLE_FIELDS)
    if unknown:
        raise invalid(f"Unknown KPI fields: {', '.join(sorted(unknown))}.")
    data = dict(fields)
    catalogue_code = data.get("catalogue_code") or ""
    if catalogue_code:
        standard = next((k for k in CATALOGUE if k.code == catalogue_code), None)
        if standard is None:
            raise invalid(f"No standard KPI has the code {catalogue_code!r}.", location="catalogue_code")
        defaults = {
            "code": standard.code,
            "name": standard.name,
            "category": standard.category,
            "unit": standard.unit,
            "direction": standard.direction,
            "definition": standard.definition,
            "period": standard.default_period,
            "dataset": standard.dataset,
            "formula": standard.formula,
            "row_filter": standard.row_filter or "",
            "min_value": standard.min_value,
            "max_value": standard.max_value,
        }
        for key, value in defaults.items():
            if data.get(key) in (None, ""):
                data[key] = value
    errors: list[ErrorDetail] = []
    code = data.get("code") or ""
    try:
        code_validator(code)
    except Exception:
        errors.append(
            ErrorDetail("Use 2–48 lower-case letters, digits and underscores, starting with a letter.", "code")
        )
    clash = version.kpis.filter(code=code)
    if editing is not None:
        clash = clash.exclude(pk=editing.pk)
    if code and clash.exists():
        errors.append(ErrorDetail(f"This version already has a KPI with the code {code!r}.", "code"))
    for required in ("name", "category", "unit", "direction", "period"):
        if not data.get(required):
            errors.append(ErrorDetail("This field is required.", required))
    if data.get("target") is None:
        errors.append(ErrorDetail("Set the target.", "target"))
    weight = data.get("weight", Decimal("1"))
    data["weight"] = weight if weight is not None else Decimal("1")
    if data.get("direction") in ("higher", "lower") and data.get("target") is not None:
        errors.extend(
            kpi_terms_check(
                code=code,
                direction=data["direction"],
                target=data["target"],
                amber=data.get("amber"),
                stretch=data.get("stretch"),
                weight=data["weight"],
                milestones=tuple(
                    TermsMilestone(date=m.date, target=m.target, amber=m.amber, stretch=m.stretch) for m in milestones
                ),
            )
        )
    low, high = data.get("min_value"), data.get("max_value")
    if low is not None and high is not None and low >= high:
        errors.append(ErrorDetail("must be below the maximum", "min_value"))
    for name in ("target", "amber", "stretch"):
        value = data.get(name)
        if value is None:
            continue
        if low is not None and value < low:
            errors.append(ErrorDetail(f"{value} is below the lowest value this KPI allows ({low})", name))
        if high is not None and value > high:
            errors.append(ErrorDetail(f"{value} is above the highest value this KPI allows ({high})", name))
    engagement = version.engagement
    for i, m in enumerate(milestones):
        if not engagement.start_date <= m.date <= engagement.end_date:
            errors.append(ErrorDetail("must fall within the engagement's dates", f"milestones[{i}].date"))
    source = data.get("source") or DataSource.MANUAL
    data["source"] = source
    if source == DataSource.DATASET or data.get("formula"):
        dataset = data.get("dataset") or ""
        schema = dataset_schema_for(engagement=version.engagement, name=dataset)
        if schema is None:
            errors.append(
                ErrorDetail(f"unknown dataset {dataset!r}: use one of {', '.join(sorted(STANDARD_SCHEMAS))}", "dataset")
            )
        elif not data.get("formula"):
            errors.append(ErrorDetail("A KPI computed from a dataset needs a formula.", "formula"))
        else:
            try:
                formula_compile(expression=data["formula"], schema=schema, row_filter=data.get("row_filter") or None)
            except PactboardError as exc:
                errors.extend(
                    ErrorDetail(d.message, d.location if d.location in ("row_filter",) else "formula")
                    for d in (exc.details or [ErrorDetail(exc.message)])
                )
    if errors:
        raise PactboardError("The KPI could not be saved.", errors)
    for text_field in (
        "definition",
        "baseline_period",
        "baseline_source",
        "dataset",
        "formula",
        "row_filter",
        "catalogue_code",
    ):
        data[text_field] = data.get(text_field) or ""
    return data


def _objectives_for(version: AgreementVersion, objective_ids: list[int]) -> list[Objective]:
    if not objective_ids:
        raise PactboardError(
            "The KPI could not be saved.", [ErrorDetail("Link the KPI to at least one objective.", "objectives")]
        )
    objectives = list(Objective.objects.filter(engagement_id=version.engagement_id, pk__in=objective_ids))
    if len(objectives) != len(set(objective_ids)):
        raise PactboardError(
            "The KPI could not be saved.", [ErrorDetail("Choose objectives of this engagement.", "objectives")]
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
    _require_party_manager(actor, version.engagement)
    milestones = milestones or []
    with transaction.atomic():
        locked = AgreementVersion.objects.select_for_update().select_related("engagement").get(pk=version.pk)
        _require_draft(locked)
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
    _require_party_manager(actor, version.engagement)
    with transaction.atomic():
        locked = AgreementVersion.objects.select_for_update().select_related("engagement").get(pk=version.pk)
        _require_draft(locked)
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
    _require_party_manager(actor, kpi.version.engagement)
    with transaction.atomic():
        locked = AgreementVersion.objects.select_for_update().get(pk=kpi.version_id)
        _require_draft(locked)
        before = _kpi_audit(kpi)
        VersionKpi.objects.get(pk=kpi.pk).delete()
        _audit(actor, "agreement.kpi_remove", locked, before=before)


def version_propose(
    *,
    actor: Membership,
    version: AgreementVersion,
    effective_from: date | None = None,
    note: str | None = None,
    retroactive: bool = False,
    now: datetime | None = None,
) -> AgreementVersion:
    """Freeze a draft for review by the other party; its content hash is what both will sign.

    Without a date it takes effect from the start of the next period. A date that re-scores
    periods already scored under an agreement needs ``retroactive=True``: changing a target must
    not silently re-judge history.
    """
    _require_party_manager(actor, version.engagement)
    now = now or timezone.now()
    with transaction.atomic():
        locked = AgreementVersion.objects.select_for_update().select_related("engagement").get(pk=version.pk)
        _require_draft(locked)
        engagement = locked.engagement
        errors: list[ErrorDetail] = []
        if not locked.kpis.exists():
            errors.append(ErrorDetail("Add at least one KPI before proposing."))
        next_start = version_next_period_start(version=locked, now=now)
        effective_from = effective_from or next_start
        rescored = version_rescored_periods(version=locked, effective_from=effective_from, now=now)
        if not engagement.start_date <= effective_from <= engagement.end_date:
            errors.append(ErrorDetail("must fall within the engagement's dates", "effective_from"))
        elif rescored and not retroactive:
            errors.append(
                ErrorDetail(
                    f"From {effective_from:%Y-%m-%d} this version re-scores {len(rescored)} periods already "
                    f"scored ({rescored_text(rescored)}). Choose {next_start:%Y-%m-%d}, the start of the next "
                    "period, or confirm that the change is retroactive.",
                    "effective_from",
                    "retroactive_unconfirmed",
                )
            )
        if errors:
            raise PactboardError("The version could not be proposed.", errors)
        locked.effective_from = effective_from
        if note is not None:
            locked.note = note
        locked.status = Status.PROPOSED
        locked.proposed_by_org = actor.organisation
        locked.proposed_at = timezone.now()
        locked.content_hash = content_hash(version_content(version=locked))
        locked.save()
        _audit(
            actor,
            "agreement.propose",
            locked,
            after={
                "number": locked.number,
                "effective_from": effective_from,
                "content_hash": locked.content_hash,
                "rescores": [p.label for p in rescored],
            },
        )
    return locked


def version_comment(*, actor: Membership, version: AgreementVersion, body: str, kpi_code: str = "") -> Comment:
    """Comment on a version, or on one of its KPIs."""
    side = version.engagement.party_role(actor.organisation_id)
    if side is None:
        raise PactboardError("No such engagement.", kind="not_found")
    if not actor.can_contribute:
        raise forbidden("Viewers cannot comment.")
    if not body.strip():
        raise invalid("Write something.", location="body")
    if kpi_code and not version.kpis.filter(code=kpi_code).exists():
        raise invalid(f"Version {version.number} has no KPI {kpi_code!r}.", location="kpi_code")
    with transaction.atomic():
        comment = Comment.objects.create(
            version=version, kpi_code=kpi_code, author=actor.user, organisation=actor.organisation, body=body.strip()
        )
        _audit(actor, "agreement.comment", version, after={"kpi_code": kpi_code, "body": comment.body})
    return comment


def version_counter_propose(*, actor: Membership, version: AgreementVersion, note: str = "") -> AgreementVersion:
    """Answer a proposal with a new draft based on it; the proposal is superseded."""
    _require_party_manager(actor, version.engagement)
    with transaction.atomic():
        locked = AgreementVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status != Status.PROPOSED:
            raise PactboardError("Only a proposed version can be answered with a counter-proposal.", kind="conflict")
        if locked.proposed_by_org_id == actor.organisation_id:
            raise PactboardError(
                "Your organisation made this proposal: withdraw it and start a new draft instead.", kind="conflict"
            )
        locked.status = Status.SUPERSEDED
        locked.save(update_fields=["status", "updated_at"])
        _audit(actor, "agreement.supersede", locked, after={"number": locked.number})
        draft = version_draft_start(actor=actor, engagement=locked.engagement, based_on=locked, note=note)
    return draft


def version_withdraw(*, actor: Membership, version: AgreementVersion) -> AgreementVersion:
    """Withdraw a draft or one's own proposal that is not yet agreed."""
    _require_party_manager(actor, version.engagement)
    with transaction.atomic():
        locked = AgreementVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status == Status.PROPOSED and locked.proposed_by_org_id != actor.organisation_id:
            raise forbidden(
                "Only the party that proposed a version can withdraw it; answer it with a counter-proposal."
            )
        if locked.status not in (Status.DRAFT, Status.PROPOSED):
            raise PactboardError(
                f"A version that is {locked.get_status_display().lower()} cannot be withdrawn.", kind="conflict"
            )
        locked.status = Status.WITHDRAWN
        locked.save(update_fields=["status", "updated_at"])
        _audit(actor, "agreement.withdraw", locked, after={"number": locked.number})
    return locked


def _sign(
    *, version: AgreementVersion, organisation: Organisation, signer: User, recorded_as_agreed: bool
) -> Signature:
    signature = Signature.objects.create(
        version=version,
        organisation=organisation,
        signer=signer,
        signed_at=timezone.now(),
        content_hash=version.content_hash,
        recorded_as_agreed=recorded_as_agreed,
    )
    parties = {version.engagement.client_id, version.engagement.provider_id}
    signed = set(Signature.objects.filter(version=version).values_list("organisation_id", flat=True))
    if parties <= signed:
        version.status = Status.AGREED
        version.agreed_at = timezone.now()
        version.save(update_fields=["status", "agreed_at", "updated_at"])
        version_agreed.send(sender=AgreementVersion, version=version, user=signer, organisation=organisation)
    return signature


def version_sign(*, actor: Membership, version: AgreementVersion) -> Signature:
    """Sign a proposed version for the actor's organisation: the hash of its exact content."""
    _require_party_manager(actor, version.engagement)
    with transaction.atomic():
        # The row lock serialises concurrent signatures: each counts once, and the last one agrees.
        locked = AgreementVersion.objects.select_for_update().select_related("engagement").get(pk=version.pk)
        if locked.status != Status.PROPOSED:
            raise PactboardError(
                f"Version {locked.number} is {locked.get_status_display().lower()}: "
                "only a proposed version can be signed.",
                kind="conflict",
            )
        if Signature.objects.filter(version=locked, organisation_id=actor.organisation_id).exists():
            raise PactboardError(f"{actor.organisation} has already signed version {locked.number}.", kind="conflict")
        recomputed = content_hash(version_content(version=locked))
        if recomputed != locked.content_hash:
            raise PactboardError(
                "The content of this version no longer matches what was proposed: it cannot be signed.", kind="conflict"
            )
        signature = _sign(version=locked, organisation=actor.organisation, signer=actor.user, recorded_as_agreed=False)
        _audit(
            actor,
            "agreement.sign",
            locked,
            after={
                "number": locked.number,
                "content_hash": locked.content_hash,
                "agreed": locked.status == Status.AGREED,
            },
        )
    return signature


def version_record_as_agreed(
    *, version: AgreementVersion, client_signer: Membership, provider_signer: Membership, effective_from: date
) -> AgreementVersion:
    """Record a draft as signed by both parties outside Pactboard (migrating existing contracts); audited as such."""
    engagement = version.engagement
    if client_signer.organisation_id != engagement.client_id or not client_signer.is_manager:
        raise invalid("The client signer must be an administrator or manager of the client.", location="client_signer")
    if provider_signer.organisation_id != engagement.provider_id or not provider_signer.is_manager:
        raise invalid(
            "The provider signer must be an administrator or manager of the provider.", location="provider_signer"
        )
    with transaction.atomic():
        # Recording a contract signed elsewhere: its date is the parties' own, however far back.
        proposed = version_propose(
            actor=client_signer, version=version, effective_from=effective_from, retroactive=True
        )
        for signer in (client_signer, provider_signer):
            _sign(version=proposed, organisation=signer.organisation, signer=signer.user, recorded_as_agreed=True)
            _audit(
                signer,
                "agreement.record_as_agreed",
                proposed,
                after={"number": proposed.number, "content_hash": proposed.content_hash, "signed_outside": True},
            )
        proposed.refresh_from_db()
    return proposed


def custom_kpi_create(*, actor: Membership, **fields: Any) -> CustomKpi:
    """Add an organisation's own KPI definition to its catalogue."""
    if not actor.is_manager:
        raise forbidden("Only administrators and managers add custom KPIs.")
    with transaction.atomic():
        kpi = CustomKpi(organisation=actor.organisation, **fields)
        errors: list[ErrorDetail] = []
        if CustomKpi.objects.filter(organisation=actor.organisation, code=kpi.code).exists() or any(
            k.code == kpi.code for k in CATALOGUE
        ):
            errors.append(ErrorDetail(f"The code {kpi.code!r} is taken: choose another.", "code"))
        if kpi.formula:
            schema = STANDARD_SCHEMAS.get(kpi.dataset)
            if schema is None:
                errors.append(
                    ErrorDetail(
                        f"unknown dataset {kpi.dataset!r}: use one of {', '.join(sorted(STANDARD_SCHEMAS))}", "dataset"
                    )
                )
            else:
                try:
                    formula_compile(expression=kpi.formula, schema=schema, row_filter=kpi.row_filter or None)
                except PactboardError as exc:
                    errors.extend(
                        ErrorDetail(d.message, "row_filter" if d.location == "row_filter" else "formula")
                        for d in (exc.details or [ErrorDetail(exc.message)])
                    )
        try:
            kpi.full_clean(exclude=["organisation"])
        except Exception as exc:  # ValidationError
            for field_name, messages in getattr(exc, "message_dict", {"__all__": [str(exc)]}).items():
                errors.extend(ErrorDetail(m, None if field_name == "__all__" else field_name) for m in messages)
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
