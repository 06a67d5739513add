"""`pactboard reviews schedule [ENGAGEMENT ...]`: create the next reviews from each engagement's cadence."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from pactboard.core.errors import PactboardError
from pactboard.engagements.models import Engagement
from pactboard.engagements.selectors import engagement_lookup
from pactboard.governance.services import SCHEDULE_AHEAD, meetings_schedule


class Command(BaseCommand):
    help = "Reviews: `schedule` creates the next reviews each engagement's cadence calls for (safe to run twice)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        schedule = sub.add_parser("schedule", help="create the next reviews and freeze the agendas of started ones")
        schedule.add_argument(
            "engagements", nargs="*", help="engagement ids or exact names (default: every active one)"
        )
        schedule.add_argument("--ahead", type=int, default=SCHEDULE_AHEAD, help="upcoming reviews to keep scheduled")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            engagements = (
                [engagement_lookup(ref=ref) for ref in options["engagements"]]
                if options["engagements"]
                else list(Engagement.objects.filter(status=Engagement.Status.ACTIVE).order_by("pk"))
            )
        except PactboardError as exc:
            raise CommandError(str(exc)) from None
        now = timezone.now()
        for engagement in engagements:
            created = meetings_schedule(engagement=engagement, actor=None, now=now, ahead=options["ahead"])
            self.stdout.write(f"{engagement.name}: {len(created)} review{'s' if len(created) != 1 else ''} scheduled")
            for m in created:
                self.stdout.write(
                    f"  {m.starts_at.astimezone(timezone.get_fixed_timezone(0)):%Y-%m-%d %H:%M} UTC  {m.title}"
                )
