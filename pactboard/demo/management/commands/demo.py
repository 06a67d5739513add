"""`pactboard demo`: migrate, load the demo data, print log-ins and serve on 127.0.0.1 with a task worker."""

from __future__ import annotations

import signal
import subprocess
import sys
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.tasks import task_backends
from django.test.utils import override_settings
from django_tasks_db import DatabaseBackend

from pactboard.demo.load import DEMO_PASSWORD, demo_exists, demo_load


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
        worker = self._worker_start()
        # On SIGTERM, unwind like Ctrl-C so that the worker is stopped too.
        signal.signal(signal.SIGTERM, _exit_on_signal)
        self.stdout.write(self.style.SUCCESS(f"\nServing on http://127.0.0.1:{port}/  (Ctrl-C stops)\n"))
        try:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, skip_checks=True)
        finally:
            self._worker_stop(worker)

    def _worker_start(self) -> subprocess.Popen[bytes] | None:
        """Imports started from the pages run as tasks: start django-tasks-db's worker beside the server."""
        if not isinstance(task_backends["default"], DatabaseBackend):
            return None
        command = [sys.executable, "-m", "pactboard.cli", "db_worker", "--interval", "0.5", "--no-reload"]
        worker = subprocess.Popen(command)  # noqa: S603 - our own interpreter and command
        self.stdout.write(f"Task worker started (pid {worker.pid}).")
        return worker

    def _worker_stop(self, worker: subprocess.Popen[bytes] | None) -> None:
        if worker is None or worker.poll() is not None:
            return
        worker.terminate()  # db_worker finishes or abandons its current task on SIGTERM
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        self.stdout.write("Task worker stopped.")


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
