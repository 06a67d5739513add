"""`pactboard alerts scan [ENGAGEMENT ...]`: raise and clear each engagement's alerts (safe to run twice)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from pactboard.core.errors import PactboardError
from pactboard.engagements.selectors import engagements_lookup
from pactboard.governance.alerts import alerts_scan


class Command(BaseCommand):
    help = "Alerts: `scan` raises the alerts whose cause holds and clears the others (safe to run twice)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        scan = sub.add_parser("scan", help="raise and clear alerts of each engagement")
        scan.add_argument("engagements", nargs="*", help="engagement ids or exact names (default: every active one)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            engagements = engagements_lookup(refs=options["engagements"])
        except PactboardError as exc:
            raise CommandError(str(exc)) from None
        now = timezone.now()
        for engagement in engagements:
            result = alerts_scan(engagement=engagement, now=now)
            self.stdout.write(f"{engagement.name}: {len(result.raised)} raised, {len(result.cleared)} cleared")
