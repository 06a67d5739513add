"""The router, the output schemas every endpoint shares, and the look-ups through the actor's scope."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Schema

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.accounts.models import Membership
from pactboard.core.api import ApiRouter
from pactboard.core.errors import not_found
from pactboard.kpis import selectors, services
from pactboard.kpis.content import plain_decimal
from pactboard.kpis.models import AgreementVersion, Signature, VersionKpi

router = ApiRouter(tags=["agreements"])


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
