"""`pactboard scorecard ENGAGEMENT --period 2026-10 [--format json|table]`."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from pactboard.core.errors import PactboardError
from pactboard.core.periods import Period
from pactboard.engagements.selectors import engagement_lookup
from pactboard.measurements.selectors import scorecard_as_dict, scorecard_for_period


class Command(BaseCommand):
    help = "Print an engagement's scorecard for one period (value, target in force, status, attainment, score)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("engagement", help="engagement id or exact name")
        parser.add_argument("--period", required=True, help="2026-10 (month), 2026-Q4 (quarter) or 2026-W05 (week)")
        parser.add_argument("--format", choices=["json", "table"], default="table")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            engagement = engagement_lookup(ref=options["engagement"])
            period = Period.parse(options["period"])
        except PactboardError as exc:
            raise CommandError(str(exc)) from None
        data = scorecard_as_dict(scorecard_for_period(engagement=engagement, period=period))
        if options["format"] == "json":
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
            return
        if data["agreement_version"] is None:
            raise CommandError(f"No agreed KPI set is in force for {engagement.name} in {period.label}.")
        self.stdout.write(
            f"{data['engagement']} · {data['period']} · agreement v{data['agreement_version']} · "
            f"score {data['score'] or '—'} · coverage {data['coverage']}"
        )
        header = f"{'KPI':<28} {'value':>12} {'target':>10} {'status':<9} {'attainment':>10}"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for k in data["kpis"]:
            self.stdout.write(
                f"{k['code']:<28} {k['value'] or '—':>12} {k['target']:>10} "
                f"{k['status']:<9} {k['attainment'] or '—':>10}"
            )
