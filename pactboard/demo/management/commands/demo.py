"""`pactboard demo`: migrate, load the demo data, print log-ins and serve on 127.0.0.1.

Beside the server run the task worker (django-tasks-db's ``db_worker``) and the scheduler
(``pactboard scheduler``, on django-crontask), supervised: either is restarted if it dies, and both stop with
the server (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from collections.abc import Sequence
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.tasks import task_backends
from django.test.utils import override_settings
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db import DatabaseBackend

from pactboard.core.task_results import task_results_abandoned_fail
from pactboard.demo.load import DEMO_PASSWORD, demo_exists, demo_load
from pactboard.demo.supervisor import Child, Supervisor, serve_supervised


class Command(BaseCommand):
    help = "Migrate, load a realistic demo (one client, three providers) and serve it on http://127.0.0.1:PORT."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="port to serve on (default 8000)")
        parser.add_argument("--no-serve", action="store_true", help="only migrate and load the demo data")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        existed = demo_exists()
        # The demo's invitations and notices would flood the terminal: they are not sent while loading.
        with override_settings(MAILERS={"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}):
            logins = demo_load()
        self.stdout.write("Demo data " + ("already loaded." if existed else "loaded."))
        self.stdout.write(f"\nLog in with any of these (password: {DEMO_PASSWORD}):")
        for login in logins:
            self.stdout.write(f"  {login.email:<36} {login.organisation} ({login.role})")
        if options["no_serve"]:
            return
        port = options["port"]
        self.stdout.write(self.style.SUCCESS(f"\nServing on http://127.0.0.1:{port}/  (Ctrl-C stops)\n"))
        # SIGTERM unwinds like Ctrl-C, so that the helpers are stopped too, whatever signals follow.
        serve_supervised(
            self._helpers(),
            lambda: call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, skip_checks=True),
        )

    def _helpers(self) -> Supervisor | None:
        """Imports and scheduled work run as tasks: the worker and the scheduler, supervised (not started yet)."""
        if not isinstance(task_backends["default"], DatabaseBackend):
            return None
        worker = _DemoWorker()
        supervisor = Supervisor(
            [
                Child(name="Task worker", argv=worker.argv, on_exit=worker.exited),
                Child(name="Scheduler", argv=lambda: [*_PACTBOARD, "scheduler", "--no-heartbeat"]),
            ],
            log=lambda line: self.stdout.write(line),
        )
        return supervisor


_PACTBOARD = [sys.executable, "-u", "-m", "pactboard.cli"]  # unbuffered: their log lines show as they happen


class _DemoWorker:
    """The demo's worker: a fresh id at each start, so the tasks a dead one left running can be failed at once."""

    def __init__(self) -> None:
        self.worker_id = ""

    def argv(self) -> Sequence[str]:
        self.worker_id = f"demo-{get_random_string(12)}"
        return [*_PACTBOARD, "db_worker", "--interval", "0.5", "--no-reload", "--worker-id", self.worker_id]

    def exited(self, code: int) -> None:
        try:
            task_results_abandoned_fail(now=timezone.now(), worker_id=self.worker_id)
        finally:
            close_old_connections()
