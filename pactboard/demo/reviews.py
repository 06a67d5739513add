"""Demo governance: a review held last cycle with minutes, decisions and actions (one overdue), the next
reviews scheduled from the cadence (the first shows its generated agenda), and an open feedback thread.

Set on the data-entry engagement, whose accuracy slips in the latest months (demo/history.py), so the
upcoming agenda has a KPI at risk to talk about. Everything goes through the governance services.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from pactboard.core.periods import Period, zone
from pactboard.demo.history import DATA_ENTRY, DATA_ENTRY_MANAGER, _engagement, _member
from pactboard.governance import services
from pactboard.governance.models import Meeting

CLIENT_ADMIN = "vera.client@northwind.example"


def demo_reviews_load(*, now: datetime | None = None) -> bool:
    """Load the demo reviews once; False when they are there already (or the engagement is not)."""
    now = now or timezone.now()
    engagement = _engagement(DATA_ENTRY)
    if engagement is None or Meeting.objects.filter(engagement=engagement).exists():
        return False
    client, provider = _member(CLIENT_ADMIN), _member(DATA_ENTRY_MANAGER)
    tz = zone(engagement.time_zone)
    today = now.astimezone(tz).date()
    # The last cadence slot at least ten days ago, so the action due a week after it is overdue today.
    n = 0
    while services.cadence_slot(start=engagement.start_date, cadence=engagement.review_cadence, n=n + 1) <= (
        today - timedelta(days=10)
    ):
        n += 1
    slot = services.cadence_slot(start=engagement.start_date, cadence=engagement.review_cadence, n=n)
    held_day = services.slot_day(slot)
    held = services.meeting_create(
        actor=client,
        engagement=engagement,
        title=f"{engagement.name} review, {held_day:%-d %b %Y}",
        starts_at=datetime.combine(held_day, services.REVIEW_TIME, tzinfo=tz),
        location="Video call",
        slot=slot,
    )
    after = held.starts_at + timedelta(hours=1)
    services.meeting_minutes_save(
        actor=provider,
        meeting=held,
        minutes=(
            "Accuracy slipped with the new hire cohort; double-key verification stays on until December.\n"
            "Turnaround keeps improving; the client asked for a weekly accuracy breakdown by operator group."
        ),
    )
    services.decision_record(
        actor=client,
        meeting=held,
        text="Keep double-key verification for the new cohort until accuracy is back above target for a month.",
        kpi_code="accuracy_rate",
    )
    services.action_create(
        actor=client,
        engagement=engagement,
        meeting=held,
        title="Send the weekly accuracy breakdown by operator group",
        owner_id=provider.pk,
        due_date=held_day + timedelta(days=7),  # overdue by now
        kpi_code="accuracy_rate",
        now=after,
    )
    services.action_create(
        actor=provider,
        engagement=engagement,
        meeting=held,
        title="Confirm the December volumes for the catalogue enrichment queue",
        owner_id=client.pk,
        due_date=today + timedelta(days=14),
        now=after,
    )
    services.meeting_minutes_close(actor=client, meeting=held, now=held.starts_at + timedelta(hours=2))
    services.meetings_schedule(engagement=engagement, actor=client, now=now)
    last_month = Period.containing("month", today).previous()
    services.feedback_thread_start(
        actor=client,
        engagement=engagement,
        kpi_code="accuracy_rate",
        period=last_month,
        title=f"Accuracy in {last_month.label}: which queues?",
        body=f"@{DATA_ENTRY_MANAGER} can you split {last_month.label}'s accuracy by queue? "
        "We would like to see whether the priority queue is affected.",
        now=now,
    )
    return True


__all__ = ["demo_reviews_load"]
