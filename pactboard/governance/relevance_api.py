"""REST endpoints of KPI relevance reviews: the same services as the pages (mounted by governance.api)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from ninja import Schema
from ninja.responses import Status

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.api import ApiRouter, Mapped, mapped, paged
from pactboard.engagements.models import Engagement
from pactboard.engagements.selectors import engagement_get
from pactboard.governance import relevance
from pactboard.governance.models import RelevanceComment, RelevanceItem, RelevanceReview
from pactboard.governance.relevance_evidence import relevance_evidence

router = ApiRouter(tags=["relevance reviews"])


class EvidenceOut(Schema):
    periods_in_force: int
    periods_measured: int
    exceeded: int
    met: int
    at_risk: int
    missed: int
    mean: Decimal | None
    spread: Decimal | None
    minimum: Decimal | None
    maximum: Decimal | None
    completeness: Decimal | None
    first_period: str
    last_period: str
    live_objective: bool
    live_objectives: list[str]
    ended_objectives: list[str]


class RelevanceCommentOut(Schema):
    id: int
    author_email: str
    organisation: str
    body: str
    created_at: datetime


class RelevanceItemOut(Schema):
    id: int
    kpi_code: str
    kpi_name: str
    unit: str
    direction: str
    period_kind: str
    target: Decimal
    amber: Decimal | None
    stretch: Decimal | None
    decision: str
    new_target: Decimal | None
    new_amber: Decimal | None
    new_stretch: Decimal | None
    reason: str
    decided_at: datetime | None


class RelevanceItemDetailOut(RelevanceItemOut):
    evidence: EvidenceOut
    comments: list[RelevanceCommentOut]


class RelevanceReviewOut(Schema):
    id: int
    due_on: date
    status: str
    based_on_version: int
    closed_at: datetime | None
    draft_version_id: int | None
    draft_version_number: int | None


class RelevanceReviewDetailOut(RelevanceReviewOut):
    items: list[RelevanceItemDetailOut]


class RelevanceDecisionIn(Schema):
    decision: str
    reason: str = ""
    new_target: Decimal | None = None
    new_amber: Decimal | None = None
    new_stretch: Decimal | None = None


class RelevanceCommentIn(Schema):
    body: str


class RelevanceSettingsIn(Schema):
    every_months: int


class RelevanceSettingsOut(Schema):
    every_months: int


def _review_out(r: RelevanceReview) -> dict[str, Any]:
    return {
        "id": r.pk,
        "due_on": r.due_on,
        "status": r.status,
        "based_on_version": r.based_on.number,
        "closed_at": r.closed_at,
        "draft_version_id": r.draft_id,
        "draft_version_number": r.draft.number if r.draft is not None else None,
    }


def _item_out(i: RelevanceItem) -> dict[str, Any]:
    return {
        "id": i.pk,
        **{
            f: getattr(i, f)
            for f in (
                "kpi_code",
                "kpi_name",
                "unit",
                "direction",
                "period_kind",
                "target",
                "amber",
                "stretch",
                "decision",
                "new_target",
                "new_amber",
                "new_stretch",
                "reason",
                "decided_at",
            )
        },
    }


def _comment_out(c: RelevanceComment) -> dict[str, Any]:
    return {
        "id": c.pk,
        "author_email": c.author.email,
        "organisation": c.organisation.name,
        "body": c.body,
        "created_at": c.created_at,
    }


def _detail(review: RelevanceReview) -> dict[str, Any]:
    items = relevance.relevance_items(review=review)
    evidence = relevance_evidence(review=review, items=items, now=timezone.now())
    return {
        **_review_out(review),
        "items": [
            {
                **_item_out(i),
                "evidence": evidence[i.kpi_code].as_json(),
                "comments": [_comment_out(c) for c in i.comments.all()],
            }
            for i in items
        ],
    }


def _engagement(request: AuthenticatedHttpRequest, engagement_id: int) -> Engagement:
    return engagement_get(membership=request.membership, engagement_id=engagement_id)


def _review(request: AuthenticatedHttpRequest, engagement_id: int, review_id: int) -> RelevanceReview:
    return relevance.relevance_review_get(
        membership=request.membership, engagement=_engagement(request, engagement_id), review_id=review_id
    )


@router.get("/engagements/{engagement_id}/relevance-reviews", response={200: list[RelevanceReviewOut]})
@paged
def list_relevance_reviews(
    request: AuthenticatedHttpRequest, engagement_id: int
) -> Mapped[RelevanceReview, dict[str, Any]]:
    """The engagement's KPI relevance reviews, newest first."""
    engagement = _engagement(request, engagement_id)
    return mapped(relevance.relevance_review_list(engagement=engagement), _review_out)


@router.post(
    "/engagements/{engagement_id}/relevance-reviews",
    response={200: RelevanceReviewDetailOut, 201: RelevanceReviewDetailOut},
)
def open_relevance_review(request: AuthenticatedHttpRequest, engagement_id: int) -> Status:
    """Open a relevance review now (201); the one already open is returned instead (200)."""
    engagement = _engagement(request, engagement_id)
    review, created = relevance.relevance_review_open(
        actor=request.membership, engagement=engagement, now=timezone.now()
    )
    review = relevance.relevance_review_get(membership=request.membership, engagement=engagement, review_id=review.pk)
    return Status(201 if created else 200, _detail(review))


@router.get(
    "/engagements/{engagement_id}/relevance-reviews/{review_id}",
    response={200: RelevanceReviewDetailOut},
)
def get_relevance_review(request: AuthenticatedHttpRequest, engagement_id: int, review_id: int) -> dict[str, Any]:
    """One review: each KPI with its evidence (live while open, frozen once closed), decision and comments."""
    return _detail(_review(request, engagement_id, review_id))


@router.post(
    "/engagements/{engagement_id}/relevance-reviews/{review_id}/items/{item_id}/decision",
    response={200: RelevanceItemOut},
)
def decide_relevance_item(
    request: AuthenticatedHttpRequest, engagement_id: int, review_id: int, item_id: int, payload: RelevanceDecisionIn
) -> dict[str, Any]:
    """The client's choice for one KPI: keep, adjust (new target and/or thresholds) or retire, with a reason."""
    review = _review(request, engagement_id, review_id)
    item = relevance.relevance_item_get(membership=request.membership, review=review, item_id=item_id)
    decided = relevance.relevance_item_decide(actor=request.membership, item=item, now=timezone.now(), **payload.dict())
    return _item_out(decided)


@router.post(
    "/engagements/{engagement_id}/relevance-reviews/{review_id}/items/{item_id}/comments",
    response={201: RelevanceCommentOut},
)
def comment_relevance_item(
    request: AuthenticatedHttpRequest, engagement_id: int, review_id: int, item_id: int, payload: RelevanceCommentIn
) -> Status:
    """A comment on one KPI of an open review (either party)."""
    review = _review(request, engagement_id, review_id)
    item = relevance.relevance_item_get(membership=request.membership, review=review, item_id=item_id)
    comment = relevance.relevance_comment_add(actor=request.membership, item=item, body=payload.body)
    return Status(201, _comment_out(comment))


@router.post(
    "/engagements/{engagement_id}/relevance-reviews/{review_id}/close",
    response={200: RelevanceReviewOut},
)
def close_relevance_review(request: AuthenticatedHttpRequest, engagement_id: int, review_id: int) -> dict[str, Any]:
    """Close the review: its changes become a draft agreement version, effective from the next period."""
    review = _review(request, engagement_id, review_id)
    relevance.relevance_review_close(actor=request.membership, review=review, now=timezone.now())
    return _review_out(_review(request, engagement_id, review_id))


@router.get("/engagements/{engagement_id}/relevance-settings", response={200: RelevanceSettingsOut})
def get_relevance_settings(request: AuthenticatedHttpRequest, engagement_id: int) -> dict[str, Any]:
    engagement = _engagement(request, engagement_id)
    return {"every_months": relevance.relevance_every_months(engagement=engagement)}


@router.put("/engagements/{engagement_id}/relevance-settings", response={200: RelevanceSettingsOut})
def set_relevance_settings(
    request: AuthenticatedHttpRequest, engagement_id: int, payload: RelevanceSettingsIn
) -> dict[str, Any]:
    """How many months pass between two relevance reviews (managers of either party)."""
    engagement = _engagement(request, engagement_id)
    row = relevance.relevance_settings_set(
        actor=request.membership, engagement=engagement, every_months=payload.every_months
    )
    return {"every_months": row.every_months}
