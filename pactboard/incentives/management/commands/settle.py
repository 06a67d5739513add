"""`pactboard settle ENGAGEMENT --period 2026-10 [--format json|table]`."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from pactboard.core.errors import PactboardError
from pactboard.core.formatting import money_text
from pactboard.engagements.selectors import engagement_lookup
from pactboard.incentives.exports import statement_as_dict
from pactboard.incentives.selectors import month_parse, settlement_for_period, settlement_inputs, settlement_recompute
from pactboard.incentives.statements import statement_to_json


class Command(BaseCommand):
    help = (
        "Print an engagement's settlement for one month: the stored one (draft or final), else the statement "
        "computed from the values as they stand (nothing is stored)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("engagement", help="engagement id or exact name")
        parser.add_argument("--period", required=True, help="the month, e.g. 2026-10")
        parser.add_argument("--format", choices=["json", "table"], default="table")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            engagement = engagement_lookup(ref=options["engagement"])
            period = month_parse(options["period"])
            stored = settlement_for_period(engagement=engagement, period=period.label)
            if stored is not None:
                statement, status = stored.statement, stored.status
            else:
                statement = statement_to_json(
                    settlement_recompute(inputs=settlement_inputs(engagement=engagement, period=period))
                )
                status = "not drafted"
        except PactboardError as exc:
            raise CommandError(str(exc)) from None
        data = statement_as_dict(engagement=engagement.name, period=period.label, status=status, statement=statement)
        if options["format"] == "json":
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
            return
        currency = data["currency"]

        def money(text: str | None) -> str:
            return money_text(text, currency=currency) if text is not None else "—"

        self.stdout.write(f"{data['engagement']} · {data['period']} · {status} · {currency}")
        header = f"{'rule':<24} {'KPI':<24} {'value':>10} {'amount':>14}  explanation"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for line in data["lines"]:
            self.stdout.write(
                f"{line['rule']:<24} {line['kpi'] or '':<24} {line['value'] or '—':>10} "
                f"{money(line['amount']):>14}  {line['explanation']}"
            )
        self.stdout.write("-" * len(header))
        for key, label in (
            ("credits", "credits due"),
            ("credits_pending", "credits pending earn-back"),
            ("bonuses", "bonuses"),
            ("net", "net"),
            ("adjustments", "adjustments"),
            ("payable", "payable"),
        ):
            self.stdout.write(f"{label:<50} {money(data[key]):>14}")
