"""Housekeeping of the task queue, on the scheduler (``pactboard scheduler``); each is safe to run twice."""

from __future__ import annotations

from crontask import cron
from django.tasks import task
from django.utils import timezone

from pactboard.core.task_results import task_results_abandoned_fail, task_results_prune, task_stale_after


@cron("*/10 * * * *")  # every 10 minutes
@task
def task_results_sweep() -> str:
    """Fail the results left RUNNING by a worker that died (running longer than PACTBOARD_TASK_STALE_MINUTES)."""
    now = timezone.now()
    failed = task_results_abandoned_fail(now=now, started_before=now - task_stale_after())
    return f"{failed} abandoned results failed"


@cron("30 3 * * *")  # daily at 03:30 (UTC)
@task
def task_results_prune_old() -> str:
    """Delete finished results older than two weeks, so the queue table does not grow for ever."""
    return f"{task_results_prune(now=timezone.now())} old results deleted"
