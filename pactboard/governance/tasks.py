"""Background work for governance: each task takes ids, calls one service, and is safe to run twice.

The periodic entry points carry their schedule (``@cron`` of django-crontask, above ``@task``); the
scheduler process (``pactboard scheduler``) imports every installed app's ``tasks`` module and
enqueues each one on its schedule. A periodic entry point only fans out: it enqueues one task per
engagement, so an engagement whose scan fails or is slow never holds up the others (each has its
own task result, and its own retry on the next run). docs/governance.md, "Schedules".
"""

from __future__ import annotations

from typing import Any

from crontask import cron
from django.tasks import task
from django.utils import timezone

from pactboard.engagements.models import Engagement
from pactboard.governance.alerts import alerts_scan
from pactboard.governance.digests import digests_send
from pactboard.governance.relevance import relevance_reviews_open_due
from pactboard.governance.services import meetings_schedule
from pactboard.governance.webhooks import webhook_retries_due
from pactboard.governance.wins import wins_scan_task


def engagements_active_ids() -> list[int]:
    """The engagements periodic work runs for: the active ones (a draft or ended one owes nothing)."""
    return list(Engagement.objects.filter(status=Engagement.Status.ACTIVE).order_by("pk").values_list("pk", flat=True))


@task
def alerts_scan_task(engagement_id: int, kpi_codes: list[str] | None = None) -> str:
    """Scan the engagement (only ``kpi_codes`` when given) for alerts."""
    engagement = Engagement.objects.filter(pk=engagement_id).first()
    if engagement is None:
        return "engagement deleted: nothing to scan"
    result = alerts_scan(engagement=engagement, now=timezone.now(), kpi_codes=kpi_codes)
    return f"{len(result.raised)} raised, {len(result.cleared)} cleared"


def alerts_scan_covers(waiting: list[Any], wanted: list[Any]) -> bool:
    """Whether a waiting ``alerts_scan_task(engagement_id, kpi_codes)`` scans all a wanted one would.

    ``kpi_codes`` None is the whole engagement: it covers any scan of that engagement, and only it covers one.
    """
    (waiting_id, *waiting_codes), (wanted_id, *wanted_codes) = waiting, wanted
    old = waiting_codes[0] if waiting_codes else None
    new = wanted_codes[0] if wanted_codes else None
    return waiting_id == wanted_id and (old is None or (new is not None and set(new) <= set(old)))


@task
def meetings_schedule_task(engagement_id: int) -> str:
    engagement = Engagement.objects.filter(pk=engagement_id).first()
    if engagement is None:
        return "engagement deleted: nothing to schedule"
    created = meetings_schedule(engagement=engagement, actor=None, now=timezone.now())
    return f"{len(created)} scheduled"


@cron("5 * * * *")  # hourly, at :05 (UTC)
@task
def alerts_scan_all() -> str:
    """Scan every active engagement for alerts: one task each."""
    ids = engagements_active_ids()
    for pk in ids:
        alerts_scan_task.enqueue(pk)
    return f"{len(ids)} scans enqueued"


@cron("0 * * * *")  # hourly, on the hour (UTC): before the scan, so a new review's reminder follows within the hour
@task
def meetings_schedule_all() -> str:
    """Create the next reviews from every active engagement's cadence and freeze started agendas: one task each."""
    ids = engagements_active_ids()
    for pk in ids:
        meetings_schedule_task.enqueue(pk)
    return f"{len(ids)} engagements scheduled"


# Entry points written beside their services, scheduled here so this file is the room's one schedule.
cron("* * * * *")(webhook_retries_due)  # every minute: deliveries whose back-off has run out are tried again
cron("0 * * * *")(digests_send)  # hourly on the hour: whoever's local time is 08:xx gets the day's digest


@cron("20 4 * * *")  # daily at 04:20 (UTC)
@task
def relevance_reviews_open_due_task() -> str:
    """Daily: open the KPI relevance reviews that are due (idempotent: one per engagement and due day)."""
    opened = relevance_reviews_open_due(now=timezone.now())
    return f"{len(opened)} relevance review{'s' if len(opened) != 1 else ''} opened"


@cron("40 4 * * *")  # daily at 04:40 (UTC): wins of periods that closed after their value was recorded
@task
def wins_scan_all() -> str:
    """Post every active engagement's new wins: one task each."""
    ids = engagements_active_ids()
    for pk in ids:
        wins_scan_task.enqueue(pk)
    return f"{len(ids)} wins scans enqueued"
