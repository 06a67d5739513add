"""The demo's KPI relevance review: closed on the support engagement, evidence frozen, every KPI kept."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from pactboard.demo.history import SUPPORT
from pactboard.governance import relevance
from pactboard.governance.models import RelevanceComment, RelevanceReview

pytestmark = pytest.mark.django_db


def test_demo_has_a_closed_relevance_review_with_its_evidence():
    call_command("demo", "--no-serve", stdout=io.StringIO())
    review = RelevanceReview.objects.get(engagement__name=SUPPORT)
    assert review.status == "closed"
    assert review.draft is None  # every KPI kept: the agreement does not change
    items = list(review.items.all())
    assert items
    assert {i.decision for i in items} == {"keep"}
    assert all(i.reason for i in items)
    assert all(i.evidence is not None and i.evidence["periods_in_force"] > 0 for i in items)
    assert RelevanceComment.objects.filter(item__review=review).count() == 1
    # The support engagement's next review is months away (the other demo engagements are due now).
    opened = relevance.relevance_reviews_open_due(now=review.closed_at)
    assert review.engagement_id not in {r.engagement_id for r in opened}
