"""Background work for reports: each task calls one service and is safe to run twice.

The schedule is on the task (``@cron`` of django-crontask, above ``@task``); the scheduler process
(``pactboard scheduler``) enqueues it.
"""

from __future__ import annotations

from crontask import cron
from django.tasks import task
from django.utils import timezone

from pactboard.reports.services import reports_due_send


@cron("0 6 * * *")  # daily at 06:00 (UTC): a period closed in any time zone is reported the morning after
@task
def reports_due_send_task() -> str:
    """Make, archive and e-mail every report whose period has closed (schedule it daily, e.g. at 06:00 UTC)."""
    results = reports_due_send(now=timezone.now())
    sent = sum(r.sent for r in results)
    return f"{len(results)} reports due (made once, archived), {sent} e-mails queued"
