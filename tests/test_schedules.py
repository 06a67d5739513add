"""The scheduler (django-crontask) finds every room's periodic tasks, and its command starts and stops cleanly.

The table is docs/governance.md's "Schedules": a room adds a row there and a ``@cron`` task in its
``tasks`` module, and this test, which loads the tasks modules as ``pactboard scheduler`` does.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from crontask import scheduler
from django.apps import apps
from django.tasks import Task
from django.utils.module_loading import module_has_submodule

# name -> (minute, hour) of its cron trigger, UTC (settings.TIME_ZONE)
SCHEDULES = {
    "meetings_schedule_all": ("0", "*"),
    "alerts_scan_all": ("5", "*"),
    "task_results_sweep": ("*/10", "*"),
    "task_results_prune_old": ("30", "3"),
    "webhook_retries_due": ("*", "*"),
    "digests_send": ("0", "*"),
    "relevance_reviews_open_due_task": ("20", "4"),
    "wins_scan_all": ("40", "4"),
    "reports_due_send_task": ("0", "6"),
}


def _jobs() -> dict[str, object]:
    for app in apps.get_app_configs():
        if app.name.startswith("pactboard") and module_has_submodule(app.module, "tasks"):
            importlib.import_module(f"{app.name}.tasks")
    return {job.name: job for job in scheduler.get_jobs()}


def test_every_documented_schedule_is_registered_with_its_time():
    jobs = _jobs()
    for name, (minute, hour) in SCHEDULES.items():
        job = jobs[name]
        fields = {f.name: str(f) for f in job.trigger.fields}  # type: ignore[attr-defined]
        assert (fields["minute"], fields["hour"]) == (minute, hour), name
        # The scheduler only enqueues: the worker runs the task, with no arguments.
        task = job.func.__self__  # type: ignore[attr-defined]
        assert isinstance(task, Task)
        assert job.func == task.enqueue


def test_documented_in_governance_md():
    text = Path("docs/governance.md").read_text(encoding="utf-8")
    for name in SCHEDULES:
        assert f"`{name}`" in text, name


def _scheduler_run_and_signal(tmp_path, *, signal_after: str, delay: float, signum: int) -> tuple[str, int]:
    """Start ``pactboard scheduler``, send SIGNUM ``delay`` seconds after the line containing ``signal_after``."""
    env = {**os.environ, "PACTBOARD_DEBUG": "true", "PACTBOARD_DATA_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "pactboard.cli", "scheduler", "--no-heartbeat"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    out: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            out.append(line)
            if signal_after in line:
                break
        time.sleep(delay)
        proc.send_signal(signum)
        rest, _ = proc.communicate(timeout=40)
    finally:
        if proc.poll() is None:
            proc.kill()
    return "".join(out) + rest, proc.returncode


@pytest.mark.parametrize(
    ("signal_after", "delay", "signum"),
    [
        # Before start(): the handler is in place, the scheduler is not running yet.
        ("Starting scheduler", 0.0, signal.SIGTERM),
        # Just after APScheduler's own "Scheduler started" line: the main loop is processing its jobs
        # under the jobstore lock. django-crontask's KeyboardInterrupt landed there and died with
        # "RuntimeError: release unlocked lock", exit status 1.
        ("Scheduler started", 0.0, signal.SIGTERM),
        ("Scheduler started", 0.3, signal.SIGINT),
        ("Scheduler started", 0.0, signal.SIGHUP),
    ],
)
def test_the_scheduler_command_stops_cleanly_on_a_signal_at_any_moment(tmp_path, signal_after, delay, signum):
    text, returncode = _scheduler_run_and_signal(tmp_path, signal_after=signal_after, delay=delay, signum=signum)
    assert "Loaded tasks from pactboard.governance." in text
    assert "Loaded tasks from pactboard.core." in text
    assert f"Received {signal.Signals(signum).name}: shutting down scheduler" in text
    assert "Scheduler stopped." in text
    assert "Traceback" not in text
    assert returncode == 0, text
