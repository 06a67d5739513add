"""`pactboard audit verify`: recompute the hash chain and name the first broken event."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from pactboard.audit.selectors import audit_verify


class Command(BaseCommand):
    help = "Audit trail tools. `verify` checks the hash chain of every event."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["verify"], help="verify: recompute and check the whole chain")

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_verify()
        if result.problem is not None:
            raise CommandError(
                f"Audit trail is broken at event #{result.problem.seq} ({result.problem.kind}): "
                f"{result.problem.message}. {result.count - 1} events before it are intact."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Audit trail intact: {result.count} events, head hash {result.head_hash}.")
        )
        self.stdout.write(
            "Keep the head hash: removing events from the end of the trail can only be detected against it."
        )
