"""`pactboard vega_bundle`: write static/vendor/vega-embed.js from vl-convert (no network needed)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from pactboard.dashboards.charts import vega_bundle_ensure


class Command(BaseCommand):
    help = "Write the self-contained vega-embed bundle that the chart pages load (static/vendor/vega-embed.js)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--force", action="store_true", help="write it again even if it is up to date")

    def handle(self, *args: Any, **options: Any) -> None:
        path = vega_bundle_ensure(force=options["force"])
        self.stdout.write(f"{path} ({path.stat().st_size // 1024} KiB)")
