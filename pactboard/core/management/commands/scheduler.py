"""``pactboard scheduler``: django-crontask's scheduler, stopped cleanly by SIGTERM, SIGINT or SIGHUP.

django-crontask's own ``crontask`` command stops by raising ``KeyboardInterrupt`` from its signal
handler. The exception lands wherever the main thread happens to be, and when that is inside one of
APScheduler's ``with lock:`` blocks the lock is left half-released: the process dies with
``RuntimeError: release unlocked lock`` and exit status 1 instead of shutting down. A supervisor
(systemd, ``pactboard demo``) then reads a clean stop as a crash.

Here the handler only starts a thread that calls ``scheduler.shutdown()``: APScheduler's documented
way to stop a ``BlockingScheduler`` from elsewhere. The main loop wakes, finishes the job it is on
(the scheduler only *enqueues* tasks, so that is quick) and ``start()`` returns. Everything else
(loading each app's ``tasks`` module, the optional Redis lock) is django-crontask's.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time

from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.interval import IntervalTrigger
from crontask import conf, utils
from crontask.management.commands.crontask import Command as CrontaskCommand

# A signal can arrive between installing the handler and ``start()``: the stopping thread waits
# this long for the scheduler to be running before it gives up.
_START_WAIT_SECONDS = 30.0


class Command(CrontaskCommand):
    help = (
        "Run the scheduler: enqueues every @cron task of the apps' tasks modules on its schedule. "
        "Run exactly one. SIGTERM, SIGINT or SIGHUP stop it cleanly (exit status 0)."
    )

    def launch_scheduler(self, lock, scheduler):
        stopping = threading.Event()

        def stop(signum, frame):  # a signal handler: no I/O here, only hand the work to a thread
            if stopping.is_set():
                return
            stopping.set()
            name = signal.Signals(signum).name
            threading.Thread(target=self._stop, args=(scheduler, name), name="scheduler-stop", daemon=True).start()

        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # POSIX: Pactboard runs on Linux
            signal.signal(signum, stop)
        self.stdout.write(self.style.SUCCESS("Starting scheduler…"))
        # As django-crontask does: keep extending the Redis lock's TTL while running (no-op without Redis).
        scheduler.add_job(
            utils.extend_lock,
            IntervalTrigger(seconds=conf.get_settings().LOCK_REFRESH_INTERVAL),
            args=(lock, scheduler),
            name="crontask.utils.lock.extend",
        )
        if not stopping.is_set():
            scheduler.start()  # blocks until shutdown() is called
        self.stdout.write("Scheduler stopped.")

    def _stop(self, scheduler, signal_name: str) -> None:
        self.stdout.write(self.style.NOTICE(f"Received {signal_name}: shutting down scheduler…"))
        deadline = time.monotonic() + _START_WAIT_SECONDS
        while scheduler.state == STATE_STOPPED and time.monotonic() < deadline:
            time.sleep(0.02)  # signalled before start(): wait until it runs, then stop it
        with contextlib.suppress(SchedulerNotRunningError):
            scheduler.shutdown()
