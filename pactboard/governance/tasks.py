"""Background work for governance: each task takes ids, calls one service, and is safe to run twice."""

from __future__ import annotations

from django.tasks import task
from django.utils import timezone

from pactboard.engagements.models import Engagement
from pactboard.governance.alerts import alerts_scan


@task
def alerts_scan_task(engagement_id: int, kpi_codes: list[str] | None = None) -> str:
    """Scan the engagement (only ``kpi_codes`` when given) for alerts."""
    engagement = Engagement.objects.filter(pk=engagement_id).first()
    if engagement is None:
        return "engagement deleted: nothing to scan"
    result = alerts_scan(engagement=engagement, now=timezone.now(), kpi_codes=kpi_codes)
    return f"{len(result.raised)} raised, {len(result.cleared)} cleared"
