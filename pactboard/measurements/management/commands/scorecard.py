"""`pactboard scorecard ENGAGEMENT --period 2026-10 [--format json|table]`."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from pactboard.core.errors import PactboardError
from pactboard.core.formatting import SCORE_PLACES, number_text, ratio_percent_text, value_text
from pactboard.core.periods import Period
from pactboard.engagements.selectors import engagement_lookup
from pactboard.measurements.selectors import kpi_rules, scorecard_as_dict, scorecard_for_period


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
        found = scorecard_for_period(engagement=engagement, period=period)
        data = scorecard_as_dict(found)
        if options["format"] == "json":
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
            return
        card = found.scorecard
        if data["agreement_version"] is None or card is None:
            raise CommandError(f"No agreed KPI set is in force for {engagement.name} in {period.label}.")
        # The table shows numbers the way the pages do (docs/formatting.md); --format json keeps the
        # stored values at full precision for machines.
        rules = kpi_rules(engagement=engagement)
        currency = engagement.currency
        self.stdout.write(
            f"{data['engagement']} · {data['period']} · agreement v{data['agreement_version']} · "
            f"score {number_text(card.score, places=SCORE_PLACES)} · coverage {ratio_percent_text(card.coverage)}"
        )
        header = f"{'KPI':<28} {'value':>14} {'target':>14} {'status':<9} {'attainment':>10}"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for r in card.results:
            unit = rules[r.code].unit if r.code in rules else ""
            self.stdout.write(
                f"{r.code:<28} {value_text(r.value, unit=unit, currency=currency):>14} "
                f"{value_text(r.target, unit=unit, currency=currency):>14} "
                f"{r.status:<9} {ratio_percent_text(r.attainment):>10}"
            )
