"""REST endpoints for engagements and objectives."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from ninja import Field, Schema
from ninja.responses import Status

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.api import ApiRouter, Mapped, mapped, paged
from pactboard.core.errors import invalid, not_found
from pactboard.core.policy import verdict_require
from pactboard.engagements import policy, selectors, services
from pactboard.engagements.models import BusinessChange, Engagement

router = ApiRouter(tags=["engagements"])


class OrganisationOut(Schema):
    id: int
    name: str
    kind: str


class EngagementOut(Schema):
    id: int
    name: str
    client: OrganisationOut
    provider: OrganisationOut
    scope: str
    start_date: date
    end_date: date
    currency: str
    monthly_fee: Decimal
    review_cadence: str
    report_cadence: str
    time_zone: str
    status: str


class SmartGapOut(Schema):
    letter: str
    field: str
    message: str


class ObjectiveOut(Schema):
    id: int
    horizon: str
    statement: str
    measure: str
    target: str
    deadline: date | None
    owner_email: str | None
    relevance: str
    smart_gaps: list[SmartGapOut]


class ObjectiveIn(Schema):
    horizon: str = "short"
    statement: str
    measure: str = ""
    target: str = ""
    deadline: date | None = None
    relevance: str = ""


@router.get("/", response=list[EngagementOut])
@paged
def list_engagements(
    request: AuthenticatedHttpRequest, status: Engagement.Status | None = None
) -> QuerySet[Engagement]:
    """The engagements the actor's organisation is a party to, by name; ``status`` keeps those in it."""
    return selectors.engagement_list(membership=request.membership, status=status)


@router.get("/{engagement_id}", response=EngagementOut)
def get_engagement(request: AuthenticatedHttpRequest, engagement_id: int) -> object:
    return selectors.engagement_get(membership=request.membership, engagement_id=engagement_id)


def _objective_out(row: selectors.ObjectiveRow) -> dict[str, object]:
    o = row.objective
    return {
        "id": o.pk,
        "horizon": o.horizon,
        "statement": o.statement,
        "measure": o.measure,
        "target": o.target,
        "deadline": o.deadline,
        "owner_email": o.owner.email if o.owner else None,
        "relevance": o.relevance,
        "smart_gaps": [{"letter": g.letter, "field": g.field, "message": g.message} for g in row.gaps],
    }


@router.get("/{engagement_id}/objectives", response=list[ObjectiveOut])
@paged
def list_objectives(request: AuthenticatedHttpRequest, engagement_id: int) -> Mapped[Any, dict[str, object]]:
    engagement = selectors.engagement_get(membership=request.membership, engagement_id=engagement_id)
    return mapped(selectors.objectives_with_smart_check(engagement=engagement), _objective_out)


@router.post("/{engagement_id}/objectives", response={201: ObjectiveOut})
def create_objective(request: AuthenticatedHttpRequest, engagement_id: int, payload: ObjectiveIn) -> Status:
    membership = request.membership
    engagement = selectors.engagement_get(membership=membership, engagement_id=engagement_id)
    objective = services.objective_create(actor=membership, engagement=engagement, **payload.dict())
    row = next(
        r for r in selectors.objectives_with_smart_check(engagement=engagement) if r.objective.pk == objective.pk
    )
    return Status(201, _objective_out(row))


# --- writes the pages do too: create and edit engagements, edit objectives, business changes, profile ---


class EngagementIn(Schema):
    """A new engagement of the token's client organisation; name a provider it works with, or invite one."""

    name: str = Field(max_length=200)
    provider_id: int | None = Field(default=None, description="A provider the client already works with.")
    new_provider_name: str = Field(default="", max_length=200)
    new_provider_admin_email: str = Field(default="", max_length=254)
    start_date: date
    end_date: date
    currency: str = Field(max_length=3)
    monthly_fee: Decimal = Field(default=Decimal("0"), ge=0, max_digits=14, decimal_places=2)
    scope: str = Field(default="", max_length=10_000)
    review_cadence: str = Field(default="monthly", max_length=16)
    report_cadence: str = Field(default="monthly", max_length=16)
    time_zone: str = Field(default="UTC", max_length=64)


class EngagementPatch(Schema):
    name: str | None = Field(default=None, max_length=200)
    scope: str | None = Field(default=None, max_length=10_000)
    start_date: date | None = None
    end_date: date | None = None
    currency: str | None = Field(default=None, max_length=3)
    monthly_fee: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    review_cadence: str | None = Field(default=None, max_length=16)
    report_cadence: str | None = Field(default=None, max_length=16)
    time_zone: str | None = Field(default=None, max_length=64)
    status: str | None = Field(default=None, max_length=16)
    max_active_kpis: int | None = Field(default=None, ge=1, le=99)


@router.post("/", response={201: EngagementOut})
def create_engagement(request: AuthenticatedHttpRequest, payload: EngagementIn) -> Status:
    """Only managers of a client organisation create engagements, as on the page."""
    membership = request.membership
    verdict_require(policy.engagement_create_may(actor=membership))  # who may, before which provider
    data = payload.dict()
    provider_id = data.pop("provider_id")
    provider = None
    if provider_id is not None:
        provider = selectors.provider_organisations(membership=membership).filter(pk=provider_id).first()
        if provider is None:
            raise invalid(
                "Unknown provider: choose one this organisation works with, or invite a new one by name and e-mail.",
                location="provider_id",
                code="unknown_provider",
            )
    engagement = services.engagement_create(actor=membership, provider=provider, **data)
    return Status(201, engagement)


@router.patch("/{engagement_id}", response=EngagementOut)
def update_engagement(request: AuthenticatedHttpRequest, engagement_id: int, payload: EngagementPatch) -> object:
    """Change the terms sent (only fields present); only the client's managers may."""
    engagement = selectors.engagement_get(membership=request.membership, engagement_id=engagement_id)
    changes = payload.dict(exclude_unset=True)
    if any(value is None for value in changes.values()):
        nulls = sorted(k for k, v in changes.items() if v is None)
        raise invalid(
            f"Leave out what does not change; these cannot be empty: {', '.join(nulls)}.",
            location=nulls[0],
            code="null_not_allowed",
        )
    return services.engagement_update(actor=request.membership, engagement=engagement, **changes)


class ObjectivePatch(Schema):
    horizon: str | None = Field(default=None, max_length=8)
    statement: str | None = Field(default=None, max_length=300)
    measure: str | None = Field(default=None, max_length=200)
    target: str | None = Field(default=None, max_length=120)
    deadline: date | None = None
    relevance: str | None = Field(default=None, max_length=10_000)


@router.patch("/{engagement_id}/objectives/{objective_id}", response=ObjectiveOut)
def update_objective(
    request: AuthenticatedHttpRequest, engagement_id: int, objective_id: int, payload: ObjectivePatch
) -> dict[str, object]:
    membership = request.membership
    engagement = selectors.engagement_get(membership=membership, engagement_id=engagement_id)
    objective = selectors.objective_get(membership=membership, objective_id=objective_id)
    if objective.engagement_id != engagement.pk:
        raise not_found("No such objective.")
    changes = payload.dict(exclude_unset=True)
    for name in ("horizon", "statement"):
        if name in changes and changes[name] is None:
            raise invalid(f"{name} cannot be empty.", location=name, code="null_not_allowed")
    changes = {k: ("" if v is None and k not in ("deadline",) else v) for k, v in changes.items()}
    objective = services.objective_update(actor=membership, objective=objective, **changes)
    return next(
        _objective_out(r)
        for r in selectors.objectives_with_smart_check(engagement=engagement)
        if r.objective.pk == objective.pk
    )


class BusinessChangeOut(Schema):
    id: int
    date: date
    kind: str
    title: str
    description: str
    kpi_codes: list[str]
    created_by_org: str


class BusinessChangeIn(Schema):
    date: date
    kind: str = Field(max_length=16)
    title: str = Field(max_length=120)
    description: str = Field(default="", max_length=10_000)
    kpi_codes: list[str] = Field(default_factory=list, max_length=200)


def _change_out(change: BusinessChange) -> dict[str, object]:
    return {
        "id": change.pk,
        "date": change.date,
        "kind": change.kind,
        "title": change.title,
        "description": change.description,
        "kpi_codes": list(change.kpi_codes or []),
        "created_by_org": change.created_by_org.name,
    }


@router.get("/{engagement_id}/business-changes", response=list[BusinessChangeOut])
@paged
def list_business_changes(
    request: AuthenticatedHttpRequest, engagement_id: int, kpi: str | None = None
) -> Mapped[Any, dict[str, object]]:
    """The engagement's business changes, newest first; ``kpi`` keeps those linked to it (or to every KPI)."""
    engagement = selectors.engagement_get(membership=request.membership, engagement_id=engagement_id)
    changes = selectors.business_change_list(membership=request.membership, engagement=engagement, kpi_code=kpi)
    return mapped(changes, _change_out)


@router.post("/{engagement_id}/business-changes", response={201: BusinessChangeOut})
def record_business_change(request: AuthenticatedHttpRequest, engagement_id: int, payload: BusinessChangeIn) -> Status:
    engagement = selectors.engagement_get(membership=request.membership, engagement_id=engagement_id)
    change = services.business_change_record(actor=request.membership, engagement=engagement, **payload.dict())
    return Status(201, _change_out(change))
