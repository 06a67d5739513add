"""`pactboard demo`: migrate, load the demo data, print log-ins and serve on 127.0.0.1."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.test.utils import override_settings

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
        self.stdout.write(self.style.SUCCESS(f"\nServing on http://127.0.0.1:{port}/  (Ctrl-C stops)\n"))
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, skip_checks=True)
