"""Demo KPI relevance review: one held on the support engagement's last cadence day, every KPI kept.

The provider commented on one KPI and the client kept each with its reason; closed, so its evidence
is frozen as it stood then. No draft version follows (nothing changed), so the agreement is untouched.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from pactboard.core.periods import local_date
from pactboard.demo.history import SUPPORT, SUPPORT_MANAGER, _engagement, _member
from pactboard.governance import relevance
from pactboard.governance.models import RelevanceReview
from pactboard.kpis.selectors import version_in_force

CLIENT_ADMIN = "vera.client@northwind.example"
REASONS = {
    "first_contact_resolution": "Still the outcome customers feel most; trending up but not yet at target every month.",
}


def demo_relevance_load(*, now: datetime | None = None) -> bool:
    """Load the demo relevance review once; False when it is there already (or nothing is due yet)."""
    now = now or timezone.now()
    engagement = _engagement(SUPPORT)
    if engagement is None or RelevanceReview.objects.filter(engagement=engagement).exists():
        return False
    today = local_date(now, engagement.time_zone)
    due = relevance.relevance_due_on(start=engagement.start_date, every_months=relevance.EVERY_MONTHS, today=today)
    version = version_in_force(engagement=engagement, on=today)
    if due is None or version is None:
        return False
    review = relevance.relevance_review_insert(engagement=engagement, due_on=due, version=version, actor=None, now=now)
    if review is None:
        return False
    client, provider = _member(CLIENT_ADMIN), _member(SUPPORT_MANAGER)
    items = relevance.relevance_items(review=review)
    if items:
        relevance.relevance_comment_add(
            actor=provider,
            item=items[0],
            body="We would keep it as it is: the new knowledge base only reached all teams last quarter.",
        )
    for item in items:
        relevance.relevance_item_decide(
            actor=client,
            item=item,
            decision="keep",
            reason=REASONS.get(item.kpi_code, "Still measured, still acted on."),
            now=now,
        )
    relevance.relevance_review_close(actor=client, review=review, now=now)
    return True


__all__ = ["demo_relevance_load"]
