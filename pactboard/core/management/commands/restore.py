"""`pactboard restore FILE`: an archive of `pactboard backup` into an empty database and data dir."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from pactboard.core.backup import backup_restore
from pactboard.core.errors import PactboardError
from pactboard.core.storage import storage


class Command(BaseCommand):
    help = "Restore a backup into an empty database and data dir; then run `audit verify` and `measurements verify`."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="an archive written by `pactboard backup`")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup_restore(
                archive=options["file"],
                database=settings.DATABASES["default"],
                data_dir=Path(settings.DATA_DIR),
                store=storage(),
                progress=lambda line: self.stderr.write(line),
            )
        except PactboardError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Restored the {result.engine} database and {result.files:,} stored files. "
            "Check them: `pactboard audit verify` and `pactboard measurements verify ENGAGEMENT`."
        )
