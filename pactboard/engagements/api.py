"""REST endpoints for engagements and objectives."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ninja import Router, Schema
from ninja.responses import Status

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.engagements import selectors, services

router = Router(tags=["engagements"])


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
def list_engagements(request: AuthenticatedHttpRequest) -> list[object]:
    return list(selectors.engagement_list(membership=request.membership))


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
def list_objectives(request: AuthenticatedHttpRequest, engagement_id: int) -> list[dict[str, object]]:
    engagement = selectors.engagement_get(membership=request.membership, engagement_id=engagement_id)
    return [_objective_out(r) for r in selectors.objectives_with_smart_check(engagement=engagement)]


@router.post("/{engagement_id}/objectives", response={201: ObjectiveOut})
def create_objective(request: AuthenticatedHttpRequest, engagement_id: int, payload: ObjectiveIn) -> Status:
    membership = request.membership
    engagement = selectors.engagement_get(membership=membership, engagement_id=engagement_id)
    objective = services.objective_create(actor=membership, engagement=engagement, **payload.dict())
    row = next(
        r for r in selectors.objectives_with_smart_check(engagement=engagement) if r.objective.pk == objective.pk
    )
    return Status(201, _objective_out(row))
