"""Task results that no worker will finish, and old ones nobody reads: django-tasks-db's table kept honest.

django-tasks-db marks a result RUNNING when a worker claims it and SUCCESSFUL or FAILED when the
task returns or raises (also on a first SIGTERM or Ctrl-C, which lets the task finish, and a second,
which fails it). A worker that is killed outright (SIGKILL, out of memory, a lost machine) leaves
its result RUNNING for ever: ``task_results_abandoned_fail`` fails those, either the ones of one
worker known to be gone (the demo's supervisor knows when its worker died) or every one that has
been running for longer than ``PACTBOARD_TASK_STALE_MINUTES`` (the scheduled sweep). The update is
conditional on the status, so two sweeps at once, or a sweep racing the worker's own finish, fail
a result at most once and never overwrite a finished one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.tasks import Task, TaskResultStatus
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

ABANDONED = "pactboard.core.task_results.WorkerLost"
ABANDONED_TEXT = (
    "The worker running this task stopped before the task finished (it was killed or crashed), so no "
    "result will come. Periodic tasks run again on their next schedule; run a one-off task again by hand.\n"
)
KEEP_FINISHED_DAYS = 14  # django-tasks-db's own prune command keeps as long by default


def task_stale_after() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "PACTBOARD_TASK_STALE_MINUTES", 60)))


def task_results_abandoned_fail(
    *, now: datetime, worker_id: str | None = None, started_before: datetime | None = None
) -> int:
    """Fail the RUNNING results of a dead worker (``worker_id``) or started before ``started_before``; how many."""
    if worker_id is None and started_before is None:
        raise ValueError("name the dead worker or the start before which a running task is abandoned")
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
    if started_before is not None:
        running = running.filter(started_at__lt=started_before)
    ids = [
        pk
        for pk, workers in running.values_list("pk", "worker_ids")
        # The result's last claim is the worker that runs it (a retried result lists earlier ones first).
        if worker_id is None or (workers and workers[-1] == worker_id)
    ]
    if not ids:
        return 0
    return DBTaskResult.objects.filter(pk__in=ids, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        return_value=None,
        exception_class_path=ABANDONED,
        traceback=ABANDONED_TEXT,
    )


def task_results_prune(*, now: datetime, keep_days: int = KEEP_FINISHED_DAYS) -> int:
    """Delete results that finished (successfully or not) more than ``keep_days`` ago; how many."""
    deleted, _ = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED],
        finished_at__lt=now - timedelta(days=keep_days),
    ).delete()
    return deleted


def enqueue_unless_pending(
    task: Task[Any, Any], *args: Any, covers: Callable[[list[Any], list[Any]], bool] | None = None
) -> bool:
    """Enqueue ``task(*args)`` unless a run of it that no worker has started yet already covers it.

    For work that reads the database when it runs (an alert or wins scan of an engagement): a run
    still waiting will see whatever was written before it starts, so a second one asking for no more
    adds nothing but queue length. A run already started may have read before this write, so it never
    counts. ``covers(waiting_args, wanted_args)`` says whether a waiting run's arguments include the
    wanted ones (default: equal arguments). Two writers checking at once may both enqueue: harmless,
    the tasks are safe to run twice. Without a database queue (the tests' ImmediateBackend runs each
    task at once) every task is enqueued. True when it was enqueued.
    """
    backend = task.get_backend()
    if isinstance(backend, DatabaseBackend):
        wanted = json.loads(json.dumps(list(args)))  # as stored: tuples become lists
        waiting = DBTaskResult.objects.ready().filter(
            task_path=task.module_path, backend_name=backend.alias, queue_name=task.queue_name
        )
        test = covers or (lambda old, new: old == new)
        for stored in waiting.values_list("args_kwargs", flat=True).iterator():
            if not stored.get("kwargs") and test(stored.get("args", []), wanted):
                return False
    task.enqueue(*args)
    return True
