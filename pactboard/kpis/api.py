"""REST endpoints for KPI agreements: versions, their KPIs, proposals, comments and signatures.

Every endpoint calls a selector or a service; a proposed or agreed version cannot change
(the services raise a "conflict" PactboardError, which the API maps to 409).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Router, Schema, Status

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.accounts.models import Membership
from pactboard.core.errors import not_found
from pactboard.engagements import selectors as engagement_selectors
from pactboard.kpis import selectors, services
from pactboard.kpis.content import plain_decimal
from pactboard.kpis.models import AgreementVersion, Signature, VersionKpi

router = Router(tags=["agreements"])

_NUMBERS = ("target", "amber", "stretch", "weight", "baseline_value", "min_value", "max_value")


class MilestoneIO(Schema):
    date: date
    target: Decimal
    amber: Decimal | None = None
    stretch: Decimal | None = None
    note: str = ""


class MilestoneOut(Schema):
    date: date
    target: str
    amber: str | None
    stretch: str | None
    note: str


class KpiOut(Schema):
    id: int
    code: str
    name: str
    catalogue_code: str
    category: str
    unit: str
    direction: str
    definition: str
    period: str
    target: str
    amber: str | None
    stretch: str | None
    weight: str
    baseline_value: str | None
    baseline_period: str
    baseline_source: str
    source: str
    dataset: str
    formula: str
    row_filter: str
    min_value: str | None
    max_value: str | None
    active: bool
    objectives: list[str]
    milestones: list[MilestoneOut]


class SignatureOut(Schema):
    organisation: str
    side: str
    signer_email: str
    signed_at: datetime
    content_hash: str
    recorded_as_agreed: bool


class CommentOut(Schema):
    id: int
    kpi_code: str
    author_email: str
    organisation: str
    body: str
    created_at: datetime


class VersionSummaryOut(Schema):
    id: int
    engagement_id: int
    number: int
    status: str
    based_on_id: int | None
    effective_from: date | None
    proposed_by: str | None
    proposed_at: datetime | None
    agreed_at: datetime | None
    content_hash: str
    kpi_count: int
    signed_by: list[str]


class VersionOut(VersionSummaryOut):
    note: str
    max_active_kpis: int
    kpi_count_warning: str | None
    kpis: list[KpiOut]
    signatures: list[SignatureOut]
    comments: list[CommentOut]


class DraftIn(Schema):
    based_on_id: int | None = None
    note: str = ""


class KpiIn(Schema):
    """A KPI to add: with ``catalogue_code`` the standard KPI's definition fills what is left out."""

    objective_ids: list[int]
    catalogue_code: str = ""
    code: str = ""
    name: str = ""
    category: str = ""
    unit: str = ""
    direction: str = ""
    definition: str = ""
    period: str = ""
    target: Decimal | None = None
    amber: Decimal | None = None
    stretch: Decimal | None = None
    weight: Decimal | None = None
    baseline_value: Decimal | None = None
    baseline_period: str = ""
    baseline_source: str = ""
    source: str = ""
    dataset: str = ""
    formula: str = ""
    row_filter: str = ""
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    active: bool = True
    milestones: list[MilestoneIO] = []


class KpiPatch(Schema):
    """Only the fields sent change; ``objective_ids`` and ``milestones``, when sent, replace the old ones."""

    objective_ids: list[int] | None = None
    milestones: list[MilestoneIO] | None = None
    code: str | None = None
    name: str | None = None
    category: str | None = None
    unit: str | None = None
    direction: str | None = None
    definition: str | None = None
    period: str | None = None
    target: Decimal | None = None
    amber: Decimal | None = None
    stretch: Decimal | None = None
    weight: Decimal | None = None
    baseline_value: Decimal | None = None
    baseline_period: str | None = None
    baseline_source: str | None = None
    source: str | None = None
    dataset: str | None = None
    formula: str | None = None
    row_filter: str | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    active: bool | None = None


class ProposeIn(Schema):
    effective_from: date | None = None  # default: the start of the next period
    note: str | None = None
    retroactive: bool = False  # required for a date that re-scores periods already scored


class CommentIn(Schema):
    body: str
    kpi_code: str = ""


class CounterIn(Schema):
    note: str = ""


class FieldChangeOut(Schema):
    field: str
    before: Any
    after: Any


class KpiChangeOut(Schema):
    code: str
    name: str
    changes: list[FieldChangeOut]


class DiffOut(Schema):
    added: list[str]
    removed: list[str]
    changed: list[KpiChangeOut]
    settings: list[FieldChangeOut]


class CatalogueEntryOut(Schema):
    code: str
    name: str
    category: str
    unit: str
    direction: str
    definition: str
    variant: str
    default_period: str
    dataset: str
    formula: str
    row_filter: str | None
    source: str
    custom: bool


def _actor(request: AuthenticatedHttpRequest) -> Membership:
    return request.membership


def _version(request: AuthenticatedHttpRequest, version_id: int) -> AgreementVersion:
    return selectors.version_get(membership=_actor(request), version_id=version_id)


def _kpi(request: AuthenticatedHttpRequest, version_id: int, kpi_id: int) -> VersionKpi:
    kpi = selectors.version_kpi_get(membership=_actor(request), kpi_id=kpi_id)
    if kpi.version_id != version_id:
        raise not_found("No such KPI.")
    return kpi


def _milestones(items: list[MilestoneIO]) -> list[services.MilestoneSpec]:
    return [
        services.MilestoneSpec(date=m.date, target=m.target, amber=m.amber, stretch=m.stretch, note=m.note)
        for m in items
    ]


def _kpi_out(kpi: VersionKpi) -> dict[str, Any]:
    out: dict[str, Any] = {
        name: getattr(kpi, name) for name in (*services.KPI_EDITABLE_FIELDS, "id") if name not in _NUMBERS
    }
    out.update({name: plain_decimal(getattr(kpi, name)) for name in _NUMBERS})
    out["objectives"] = sorted(link.objective.key for link in kpi.objective_links.all())
    out["milestones"] = [
        {
            "date": m.date,
            "target": plain_decimal(m.target),
            "amber": plain_decimal(m.amber),
            "stretch": plain_decimal(m.stretch),
            "note": m.note,
        }
        for m in kpi.milestones.all()
    ]
    return out


def _side(version: AgreementVersion, signature: Signature) -> str:
    return version.engagement.party_role(signature.organisation_id) or ""


def _summary(version: AgreementVersion, signatures: list[Signature], kpi_count: int) -> dict[str, Any]:
    return {
        "id": version.pk,
        "engagement_id": version.engagement_id,
        "number": version.number,
        "status": version.status,
        "based_on_id": version.based_on_id,
        "effective_from": version.effective_from,
        "proposed_by": version.proposed_by_org.name if version.proposed_by_org else None,
        "proposed_at": version.proposed_at,
        "agreed_at": version.agreed_at,
        "content_hash": version.content_hash,
        "kpi_count": kpi_count,
        "signed_by": [s.organisation.name for s in signatures],
    }


def _version_out(version: AgreementVersion) -> dict[str, Any]:
    kpis = list(selectors.version_kpis(version=version))
    signatures = list(selectors.version_signatures(version=version))
    comments = selectors.version_comments(version=version)
    warning = selectors.version_kpi_count_warning(version=version)
    return {
        **_summary(version, signatures, len(kpis)),
        "note": version.note,
        "max_active_kpis": version.max_active_kpis,
        "kpi_count_warning": warning.message if warning else None,
        "kpis": [_kpi_out(k) for k in kpis],
        "signatures": [
            {
                "organisation": s.organisation.name,
                "side": _side(version, s),
                "signer_email": s.signer.email,
                "signed_at": s.signed_at,
                "content_hash": s.content_hash,
                "recorded_as_agreed": s.recorded_as_agreed,
            }
            for s in signatures
        ],
        "comments": [
            {
                "id": c.pk,
                "kpi_code": c.kpi_code,
                "author_email": c.author.email,
                "organisation": c.organisation.name,
                "body": c.body,
                "created_at": c.created_at,
            }
            for c in comments
        ],
    }


def _fresh(request: AuthenticatedHttpRequest, version_id: int) -> dict[str, Any]:
    return _version_out(_version(request, version_id))


@router.get("/engagements/{engagement_id}/versions", response=list[VersionSummaryOut])
def agreement_versions_list(request: AuthenticatedHttpRequest, engagement_id: int) -> list[dict[str, Any]]:
    """Every version of an engagement's KPI agreement, newest first."""
    actor = _actor(request)
    engagement = engagement_selectors.engagement_get(membership=actor, engagement_id=engagement_id)
    versions = selectors.version_list(membership=actor, engagement=engagement)
    return [_summary(v, list(v.signatures.all()), v.kpi_count) for v in versions]  # type: ignore[attr-defined]


@router.post("/engagements/{engagement_id}/versions", response={201: VersionOut})
def agreement_draft_start(
    request: AuthenticatedHttpRequest, engagement_id: int, payload: DraftIn
) -> Status[dict[str, Any]]:
    """Start a draft, copied from ``based_on_id`` or else from the newest agreed version."""
    actor = _actor(request)
    engagement = engagement_selectors.engagement_get(membership=actor, engagement_id=engagement_id)
    based_on = _version(request, payload.based_on_id) if payload.based_on_id else None
    draft = services.version_draft_start(actor=actor, engagement=engagement, based_on=based_on, note=payload.note)
    return Status(201, _fresh(request, draft.pk))


@router.get("/versions/{version_id}", response=VersionOut)
def agreement_version_get(request: AuthenticatedHttpRequest, version_id: int) -> dict[str, Any]:
    """One version with its KPIs, signatures and comments."""
    return _version_out(_version(request, version_id))


@router.post("/versions/{version_id}/kpis", response={201: KpiOut})
def agreement_kpi_add(request: AuthenticatedHttpRequest, version_id: int, payload: KpiIn) -> Status[dict[str, Any]]:
    """Add a KPI to a draft (409 once the version is proposed or agreed)."""
    version = _version(request, version_id)
    fields = payload.dict(exclude={"objective_ids", "milestones"})
    kpi = services.version_kpi_add(
        actor=_actor(request),
        version=version,
        objective_ids=payload.objective_ids,
        milestones=_milestones(payload.milestones),
        **fields,
    )
    return Status(201, _kpi_out(selectors.version_kpis(version=version).get(pk=kpi.pk)))


@router.patch("/versions/{version_id}/kpis/{kpi_id}", response=KpiOut)
def agreement_kpi_update(
    request: AuthenticatedHttpRequest, version_id: int, kpi_id: int, payload: KpiPatch
) -> dict[str, Any]:
    """Change a KPI of a draft (409 once the version is proposed or agreed)."""
    kpi = _kpi(request, version_id, kpi_id)
    fields = payload.dict(exclude={"objective_ids", "milestones"}, exclude_unset=True)
    services.version_kpi_update(
        actor=_actor(request),
        kpi=kpi,
        objective_ids=payload.objective_ids,
        milestones=_milestones(payload.milestones) if payload.milestones is not None else None,
        **fields,
    )
    return _kpi_out(selectors.version_kpis(version=kpi.version).get(pk=kpi.pk))


@router.delete("/versions/{version_id}/kpis/{kpi_id}", response={204: None})
def agreement_kpi_remove(request: AuthenticatedHttpRequest, version_id: int, kpi_id: int) -> Status[None]:
    """Remove a KPI from a draft (409 once the version is proposed or agreed)."""
    services.version_kpi_remove(actor=_actor(request), kpi=_kpi(request, version_id, kpi_id))
    return Status(204, None)


@router.post("/versions/{version_id}/propose", response=VersionOut)
def agreement_propose(request: AuthenticatedHttpRequest, version_id: int, payload: ProposeIn) -> dict[str, Any]:
    """Freeze a draft for review, with the date it takes effect once both parties sign."""
    version = _version(request, version_id)
    services.version_propose(
        actor=_actor(request),
        version=version,
        effective_from=payload.effective_from,
        note=payload.note,
        retroactive=payload.retroactive,
    )
    return _fresh(request, version_id)


@router.post("/versions/{version_id}/comments", response={201: CommentOut})
def agreement_comment(request: AuthenticatedHttpRequest, version_id: int, payload: CommentIn) -> Status[dict[str, Any]]:
    """Comment on a version, or on one of its KPIs (``kpi_code``)."""
    actor = _actor(request)
    comment = services.version_comment(
        actor=actor, version=_version(request, version_id), body=payload.body, kpi_code=payload.kpi_code
    )
    return Status(
        201,
        {
            "id": comment.pk,
            "kpi_code": comment.kpi_code,
            "author_email": actor.user.email,
            "organisation": actor.organisation.name,
            "body": comment.body,
            "created_at": comment.created_at,
        },
    )


@router.post("/versions/{version_id}/sign", response=VersionOut)
def agreement_sign(request: AuthenticatedHttpRequest, version_id: int) -> dict[str, Any]:
    """Sign a proposed version for the token's organisation; the second signature makes it agreed."""
    services.version_sign(actor=_actor(request), version=_version(request, version_id))
    return _fresh(request, version_id)


@router.post("/versions/{version_id}/counter-proposal", response={201: VersionOut})
def agreement_counter_propose(
    request: AuthenticatedHttpRequest, version_id: int, payload: CounterIn
) -> Status[dict[str, Any]]:
    """Answer the other party's proposal with a new draft based on it (the proposal is superseded)."""
    draft = services.version_counter_propose(
        actor=_actor(request), version=_version(request, version_id), note=payload.note
    )
    return Status(201, _fresh(request, draft.pk))


@router.post("/versions/{version_id}/withdraw", response=VersionOut)
def agreement_withdraw(request: AuthenticatedHttpRequest, version_id: int) -> dict[str, Any]:
    """Withdraw a draft, or one's own proposal before it is agreed."""
    services.version_withdraw(actor=_actor(request), version=_version(request, version_id))
    return _fresh(request, version_id)


@router.get("/versions/{version_id}/diff/{other_id}", response=DiffOut)
def agreement_diff(request: AuthenticatedHttpRequest, version_id: int, other_id: int) -> dict[str, Any]:
    """What changed from ``version_id`` to ``other_id`` (KPIs added, removed, changed field by field)."""
    before, after = _version(request, version_id), _version(request, other_id)
    if before.engagement_id != after.engagement_id:
        raise not_found("No such agreement version.")
    diff = selectors.version_diff(before=before, after=after)
    return {
        "added": list(diff.added),
        "removed": list(diff.removed),
        "changed": [
            {
                "code": k.code,
                "name": k.name,
                "changes": [{"field": c.field, "before": c.before, "after": c.after} for c in k.changes],
            }
            for k in diff.changed
        ],
        "settings": [{"field": c.field, "before": c.before, "after": c.after} for c in diff.settings],
    }


@router.get("/catalogue", response=list[CatalogueEntryOut])
def kpi_catalogue(request: AuthenticatedHttpRequest, q: str = "") -> list[dict[str, Any]]:
    """Standard KPIs and the token organisation's custom KPIs matching ``q``."""
    standard, custom = selectors.catalogue_entries(membership=_actor(request), query=q)
    return [
        *(
            {
                "code": k.code,
                "name": k.name,
                "category": k.category,
                "unit": k.unit,
                "direction": k.direction,
                "definition": k.definition,
                "variant": k.variant,
                "default_period": k.default_period,
                "dataset": k.dataset,
                "formula": k.formula,
                "row_filter": k.row_filter,
                "source": k.source,
                "custom": False,
            }
            for k in standard
        ),
        *(
            {
                "code": k.code,
                "name": k.name,
                "category": k.category,
                "unit": k.unit,
                "direction": k.direction,
                "definition": k.definition,
                "variant": "",
                "default_period": k.default_period,
                "dataset": k.dataset,
                "formula": k.formula,
                "row_filter": k.row_filter or None,
                "source": "custom",
                "custom": True,
            }
            for k in custom
        ),
    ]
