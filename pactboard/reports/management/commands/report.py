"""`pactboard report ENGAGEMENT --period 2026-10 --format html|pdf|xlsx|csv -o FILE`, and `pactboard report --due`."""

from __future__ import annotations

import os
import tempfile
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from pactboard.core.errors import PactboardError
from pactboard.engagements.selectors import engagement_lookup
from pactboard.reports.render import FORMATS, report_csv, report_html_standalone, report_pdf, report_xlsx
from pactboard.reports.selectors import report_due_period, report_period_parse, report_view
from pactboard.reports.services import report_pdf_read, reports_due_send


def _write(target: Path, content: bytes) -> None:
    """Beside the target and renamed, so a failed run leaves no half file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
    os.replace(tmp, target)


class Command(BaseCommand):
    help = (
        "Write an engagement's report for one period (the archived one if final) as HTML, PDF, XLSX or CSV; "
        "with --due, make, archive and e-mail every report whose period has closed."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("engagement", nargs="?", help="engagement id or exact name")
        parser.add_argument("--period", help="2026-10 (month), 2026-Q4 (quarter) or 2026-W05; default: the last closed")
        parser.add_argument("--format", choices=FORMATS, default="pdf")
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")
        parser.add_argument("--due", action="store_true", help="make and send every report that is due now")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["due"]:
            results = reports_due_send(now=now)
            for r in results:
                self.stdout.write(f"engagement {r.engagement_id} {r.period}: report {r.report_id}, {r.sent} e-mails")
            self.stdout.write(f"{len(results)} reports due.")
            return
        if not options["engagement"]:
            raise CommandError("Name the engagement (id or exact name), or use --due.")
        try:
            engagement = engagement_lookup(ref=options["engagement"])
            if options["period"]:
                period = report_period_parse(engagement=engagement, label=options["period"], now=now)
            else:
                found = report_due_period(engagement=engagement, now=now)
                if found is None:
                    raise CommandError("No report period of this engagement has closed yet: give --period.")
                period = found
            view = report_view(engagement=engagement, period=period, now=now)
            fmt = options["format"]
            if fmt == "pdf":
                content = report_pdf_read(view.report) if view.is_final and view.report else report_pdf(data=view.data)
            elif fmt == "xlsx":
                content = report_xlsx(data=view.data)
            elif fmt == "csv":
                content = report_csv(data=view.data).encode("utf-8")
            else:
                content = report_html_standalone(data=view.data).encode("utf-8")
        except PactboardError as exc:
            raise CommandError(str(exc)) from None
        if options["output"]:
            _write(Path(options["output"]), content)
            state = "final (archived)" if view.is_final else "draft, as the data stands now"
            self.stderr.write(f"Wrote {options['output']}: {engagement.name} {period.label}, {state}.")
        elif fmt in ("pdf", "xlsx"):
            raise CommandError(f"A {fmt} file is binary: give -o FILE.")
        else:
            self.stdout.write(content.decode("utf-8"), ending="")
