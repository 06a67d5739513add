"""`pactboard backup FILE`: the database and the stored files in one archive."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from pactboard.core.backup import backup_create
from pactboard.core.errors import PactboardError
from pactboard.core.storage import storage


class Command(BaseCommand):
    help = "Back up the database (SQLite online backup or pg_dump) and the stored uploads and datasets to one file."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="the archive to write (a .tar file; replaced atomically)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup_create(
                target=options["file"],
                database=settings.DATABASES["default"],
                data_dir=Path(settings.DATA_DIR),
                store=storage(),
                progress=lambda line: self.stderr.write(line),
            )
        except PactboardError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Backed up the {result.engine} database and {result.files:,} stored files "
            f"({result.bytes / 1e6:,.1f} MB) to {result.path}"
        )
