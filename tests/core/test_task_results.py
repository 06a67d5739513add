"""A worker killed mid-task leaves its result RUNNING (django-tasks-db never hears of the death): it is failed.

django-tasks-db's worker marks a result RUNNING when it claims it (``DBTaskResult.claim``) and
SUCCESSFUL/FAILED only when the task returns or raises in that process; a SIGKILL or a lost machine
ends the process between the two, so the row stays RUNNING. The test claims a result as the worker
does and then lets the "worker" vanish.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from pactboard.core import tasks as core_tasks
from pactboard.core.task_results import ABANDONED, task_results_abandoned_fail, task_results_prune

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def _claimed(worker_id: str, started_at: datetime) -> DBTaskResult:
    result = DBTaskResult.objects.create(
        task_path="pactboard.core.tasks.task_results_sweep",
        args_kwargs={"args": [], "kwargs": {}},
        backend_name="default",
        queue_name="default",
        run_after=started_at,
    )
    result.claim(worker_id)  # what db_worker does before it runs the task
    DBTaskResult.objects.filter(pk=result.pk).update(started_at=started_at)
    result.refresh_from_db()
    assert result.status == TaskResultStatus.RUNNING
    return result


def test_results_running_longer_than_the_limit_are_failed_once():
    old = _claimed("w-dead", NOW - timedelta(minutes=61))
    young = _claimed("w-alive", NOW - timedelta(minutes=5))
    assert task_results_abandoned_fail(now=NOW, started_before=NOW - timedelta(minutes=60)) == 1
    old.refresh_from_db()
    young.refresh_from_db()
    assert old.status == TaskResultStatus.FAILED
    assert old.exception_class_path == ABANDONED
    assert "stopped before the task finished" in old.traceback
    assert old.finished_at == NOW
    assert young.status == TaskResultStatus.RUNNING
    # Safe to run twice: nothing left to fail, and the failed result is not touched again.
    assert task_results_abandoned_fail(now=NOW + timedelta(hours=1), started_before=NOW - timedelta(minutes=60)) == 0
    old.refresh_from_db()
    assert old.finished_at == NOW


def test_the_results_of_one_dead_worker_are_failed_at_once():
    mine = _claimed("demo-1", NOW - timedelta(seconds=5))
    theirs = _claimed("demo-2", NOW - timedelta(seconds=5))
    assert task_results_abandoned_fail(now=NOW, worker_id="demo-1") == 1
    assert DBTaskResult.objects.get(pk=mine.pk).status == TaskResultStatus.FAILED
    assert DBTaskResult.objects.get(pk=theirs.pk).status == TaskResultStatus.RUNNING


def test_a_finished_result_is_never_failed_by_the_sweep():
    result = _claimed("w", NOW - timedelta(hours=3))
    result.set_successful("done")
    assert task_results_abandoned_fail(now=NOW, started_before=NOW) == 0
    assert DBTaskResult.objects.get(pk=result.pk).status == TaskResultStatus.SUCCESSFUL


def test_the_scheduled_sweep_uses_the_configured_limit(settings, monkeypatch):
    from django.utils import timezone

    settings.PACTBOARD_TASK_STALE_MINUTES = 30
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    stale = _claimed("w", NOW - timedelta(minutes=31))
    fresh = _claimed("w", NOW - timedelta(minutes=29))
    assert core_tasks.task_results_sweep.call() == "1 abandoned results failed"
    assert DBTaskResult.objects.get(pk=stale.pk).status == TaskResultStatus.FAILED
    assert DBTaskResult.objects.get(pk=fresh.pk).status == TaskResultStatus.RUNNING


def test_prune_deletes_finished_results_older_than_two_weeks():
    old = _claimed("w", NOW - timedelta(days=20))
    old.set_successful("ok")
    DBTaskResult.objects.filter(pk=old.pk).update(finished_at=NOW - timedelta(days=15))
    recent = _claimed("w", NOW - timedelta(days=2))
    recent.set_successful("ok")
    running = _claimed("w", NOW - timedelta(days=20))
    assert task_results_prune(now=NOW) == 1
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {recent.pk, running.pk}


# --- one pending scan per engagement ------------------------------------------------------------
# Every batch of values enqueued an alert scan and a wins scan of its engagement: under a stream of
# writes (bench/bench_load.py: 3,468 tasks queued in 60 s) the queue grew faster than the worker ran it,
# and every tenant's uploads waited behind one tenant's scans. A scan that is queued and not yet started
# reads the values when it runs, so a second one asking for no more adds nothing.


@pytest.fixture
def database_queue(settings):
    # pytest-django restores TASKS afterwards; Django's setting_changed receiver resets the backends both times.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _queued(task) -> list[list]:
    rows = DBTaskResult.objects.filter(task_path=task.module_path).order_by("enqueued_at")
    return [r.args_kwargs["args"] for r in rows if r.status == TaskResultStatus.READY]


def test_a_task_already_waiting_with_the_same_arguments_is_not_queued_again(database_queue):
    from pactboard.core.task_results import enqueue_unless_pending
    from pactboard.governance.tasks import wins_scan_task

    assert enqueue_unless_pending(wins_scan_task, 7) is True
    assert enqueue_unless_pending(wins_scan_task, 7) is False
    assert enqueue_unless_pending(wins_scan_task, 8) is True
    assert _queued(wins_scan_task) == [[7], [8]]
    # Once a worker has started it, it may have read the values before this write: queue another.
    DBTaskResult.objects.filter(task_path=wins_scan_task.module_path, args_kwargs__args=[7]).get().claim("w1")
    assert enqueue_unless_pending(wins_scan_task, 7) is True
    assert _queued(wins_scan_task) == [[8], [7]]


def test_a_waiting_scan_covers_a_new_one_only_when_it_scans_at_least_as_much(database_queue):
    from pactboard.core.task_results import enqueue_unless_pending
    from pactboard.governance.tasks import alerts_scan_covers as covers
    from pactboard.governance.tasks import alerts_scan_task

    assert enqueue_unless_pending(alerts_scan_task, 1, ["aht", "fcr"], covers=covers) is True
    assert enqueue_unless_pending(alerts_scan_task, 1, ["fcr"], covers=covers) is False  # within the first
    assert enqueue_unless_pending(alerts_scan_task, 1, ["csat"], covers=covers) is True  # not within it
    assert enqueue_unless_pending(alerts_scan_task, 1, None, covers=covers) is True  # the whole engagement
    assert enqueue_unless_pending(alerts_scan_task, 1, ["sla"], covers=covers) is False  # within the whole
    assert enqueue_unless_pending(alerts_scan_task, 2, ["fcr"], covers=covers) is True  # another engagement
    assert _queued(alerts_scan_task) == [[1, ["aht", "fcr"]], [1, ["csat"]], [1, None], [2, ["fcr"]]]


def test_without_a_database_queue_every_task_is_enqueued():
    """The test suite's ImmediateBackend runs each task at once: nothing waits, so nothing is skipped."""
    from pactboard.core.task_results import enqueue_unless_pending
    from pactboard.governance.tasks import wins_scan_task

    assert enqueue_unless_pending(wins_scan_task, 7) is True
    assert enqueue_unless_pending(wins_scan_task, 7) is True
