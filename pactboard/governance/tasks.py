"""Background work for governance: each task takes ids, calls one service, and is safe to run twice."""

from __future__ import annotations

from django.tasks import task
from django.utils import timezone

from pactboard.engagements.models import Engagement
from pactboard.governance.alerts import alerts_scan
from pactboard.governance.relevance import relevance_reviews_open_due


@task
def alerts_scan_task(engagement_id: int) -> str:
    engagement = Engagement.objects.filter(pk=engagement_id).first()
    if engagement is None:
        return "engagement deleted: nothing to scan"
    result = alerts_scan(engagement=engagement, now=timezone.now())
    return f"{len(result.raised)} raised, {len(result.cleared)} cleared"


@task
def relevance_reviews_open_due_task() -> str:
    """Daily: open the KPI relevance reviews that are due (idempotent: one per engagement and due day)."""
    opened = relevance_reviews_open_due(now=timezone.now())
    return f"{len(opened)} relevance review{'s' if len(opened) != 1 else ''} opened"
