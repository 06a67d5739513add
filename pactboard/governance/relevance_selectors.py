"""Reads of KPI relevance reviews (F11): an engagement's reviews, one review, its KPIs with their comments.

``pactboard.governance.relevance`` holds the writes and re-exports these, so callers import one module.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from pactboard.accounts.models import Membership
from pactboard.core.errors import not_found
from pactboard.engagements.models import Engagement
from pactboard.governance.models import RelevanceComment, RelevanceItem, RelevanceReview, RelevanceSettings
from pactboard.governance.relevance_rules import EVERY_MONTHS

Decision = RelevanceItem.Decision


def relevance_every_months(*, engagement: Engagement) -> int:
    row = RelevanceSettings.objects.filter(engagement=engagement).first()
    return row.every_months if row is not None else EVERY_MONTHS


def relevance_review_list(*, engagement: Engagement) -> QuerySet[RelevanceReview]:
    """An engagement's relevance reviews, newest first, with their KPI and decision counts."""
    return (
        RelevanceReview.objects.filter(engagement=engagement)
        .select_related("draft", "based_on")
        .annotate(
            kpi_count=Count("items"),
            decided_count=Count("items", filter=~Q(items__decision="")),
            change_count=Count("items", filter=Q(items__decision__in=[Decision.ADJUST, Decision.RETIRE])),
        )
        .order_by("-due_on", "-id")
    )


def relevance_review_get(*, membership: Membership | None, engagement: Engagement, review_id: int) -> RelevanceReview:
    """A relevance review of the engagement the actor may see, or not found."""
    review = (
        RelevanceReview.objects.visible_to(membership)
        .filter(pk=review_id, engagement=engagement)
        .select_related("engagement__client", "engagement__provider", "based_on", "draft", "closed_by", "opened_by")
        .first()
    )
    if review is None:
        raise not_found("No such relevance review.")
    return review


def relevance_item_get(*, membership: Membership | None, review: RelevanceReview, item_id: int) -> RelevanceItem:
    item = RelevanceItem.objects.visible_to(membership).filter(pk=item_id, review=review).first()
    if item is None:
        raise not_found("No such KPI in this relevance review.")
    item.review = review
    return item


def relevance_items(*, review: RelevanceReview) -> list[RelevanceItem]:
    """The review's KPIs with their comments (authors and organisations), in two queries."""
    items = list(
        review.items.select_related("decided_by")
        .prefetch_related(
            _comments_prefetch(),
        )
        .order_by("position", "id")
    )
    for item in items:
        item.review = review
    return items


def _comments_prefetch() -> Prefetch:
    return Prefetch(
        "comments", queryset=RelevanceComment.objects.select_related("author", "organisation").order_by("created_at")
    )
