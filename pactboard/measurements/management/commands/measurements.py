"""`pactboard measurements verify|import|recompute ...`: check every value; import a file; recompute from datasets."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from pactboard.accounts.selectors import membership_in_parties
from pactboard.core.errors import PactboardError
from pactboard.engagements.selectors import engagement_lookup
from pactboard.measurements.batches import import_task_run
from pactboard.measurements.models import ImportBatch
from pactboard.measurements.recompute import measurements_recompute
from pactboard.measurements.services import import_batch_start, values_import_run
from pactboard.measurements.verify import measurements_verify


class Command(BaseCommand):
    help = (
        "Measurements: `verify ENGAGEMENT` checks every value against its source; `import ENGAGEMENT FILE --as EMAIL` "
        "loads values; `recompute ENGAGEMENT [--kpi CODE] [--from PERIOD]` computes values from the datasets in force."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="recompute every value from its recorded source and report mismatches")
        verify.add_argument("engagement", help="engagement id or exact name")
        imp = sub.add_parser("import", help="import a CSV or XLSX file of values (kpi, period, value, note)")
        imp.add_argument("engagement", help="engagement id or exact name")
        imp.add_argument("file", type=Path)
        imp.add_argument("--as", dest="actor", required=True, help="e-mail of the member who sends the file")
        imp.add_argument("--reason", default="", help="why values already recorded are corrected, if any are")
        again = sub.add_parser("recompute", help="compute the agreed dataset KPIs from each dataset's version in force")
        again.add_argument("engagement", help="engagement id or exact name")
        again.add_argument("--kpi", default="", help="only this KPI code")
        again.add_argument("--from", dest="period_from", default="", help="only periods from this one (e.g. 2026-10)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            engagement = engagement_lookup(ref=options["engagement"])
        except PactboardError as exc:
            raise CommandError(str(exc)) from None
        if options["action"] == "verify":
            checked, mismatches = measurements_verify(engagement=engagement)
            for m in mismatches:
                self.stderr.write(
                    f"MISMATCH {m.kpi_code} {m.period}: stored {m.stored}, recomputed {m.recomputed} ({m.detail})"
                )
            if mismatches:
                raise CommandError(f"{len(mismatches)} of {checked} values do not match their source.")
            self.stdout.write(self.style.SUCCESS(f"All {checked} values of {engagement.name} match their source."))
            return
        if options["action"] == "recompute":
            try:
                result = measurements_recompute(
                    engagement=engagement, actor=None, kpi_code=options["kpi"], period_from=options["period_from"]
                )
            except PactboardError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(self.style.SUCCESS(f"{engagement.name}: {result.summary}."))
            return
        actor = membership_in_parties(
            email=options["actor"], organisation_ids=[engagement.client_id, engagement.provider_id]
        )
        if actor is None:
            raise CommandError(f"{options['actor']} is not a member of either party of {engagement.name}.")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            batch = import_batch_start(
                actor=actor, engagement=engagement, kind=ImportBatch.Kind.VALUES, source=path, file_name=path.name
            )
        except PactboardError as exc:
            raise CommandError(str(exc)) from None
        # The same guard as the task: whatever goes wrong, the batch ends failed rather than "running".
        import_task_run(batch_id=batch.pk, run=lambda: values_import_run(batch_id=batch.pk, reason=options["reason"]))
        batch.refresh_from_db()
        if batch.status != ImportBatch.Status.DONE:
            for error in batch.errors:
                where = f"{error['location']}: " if error.get("location") else ""
                self.stderr.write(f"{where}{error['message']}")
            raise CommandError(f"{batch.message} ({len(batch.errors)} problems listed above)")
        self.stdout.write(self.style.SUCCESS(batch.message))
