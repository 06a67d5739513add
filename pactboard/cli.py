"""The `pactboard` console script: every Django management command plus Pactboard's own."""

from __future__ import annotations

import os
import sys

from config import local_key

# Commands that answer HTTP requests: they never fall back to the demo's local key.
SERVING_COMMANDS = frozenset({"runserver", "testserver", "demo"})

# Pactboard's own commands, one line each, shown before Django's long list. Written out rather than read
# from the command classes, so that help works before anything is configured; tests/test_cli.py keeps
# it complete.
OWN_COMMANDS = {
    "demo": "migrate, load the demo and serve it on http://127.0.0.1:8000 (--port N, --no-serve)",
    "audit": "audit verify|export: check every engagement's chain (exit 1 naming the first broken event); export one",
    "engagement": "engagement validate|import|export|schema: the engagement as one YAML document",
    "measurements": "measurements import|verify: values from a CSV/XLSX file; recompute values from their sources",
    "scorecard": "scorecard ENGAGEMENT --period 2026-10: value, target, status, attainment, weighted score",
    "settle": "settle ENGAGEMENT --period 2026-10: the month's settlement (credits, bonuses, net), json or table",
    "report": "report ENGAGEMENT --period 2026-10 --format html|pdf|xlsx|csv -o FILE; --due: make, archive, e-mail",
    "reviews": "reviews schedule: create the next review meetings each engagement's cadence calls for",
    "alerts": "alerts scan: raise and clear alerts (breach, at risk, dip, chronic, late data) of each engagement",
    "wins": "wins scan: post the wins feed's new wins (met again, chronic cleared, milestone, stretch)",
    "backup": "backup FILE: the database and every stored upload and dataset in one checked archive",
    "restore": "restore FILE: a backup into an empty database and data dir",
    "db_worker": "run background tasks (imports, dataset uploads, recomputations, scheduled work)",
    "scheduler": "run the scheduler (exactly one): enqueues the periodic tasks (alert scans, reviews, reports) on time",
    "vega_bundle": "write the chart library (static/vendor/vega-embed.js) from vl-convert",
}
HELP_REQUESTS: tuple[list[str], ...] = ([], ["help"], ["--help"], ["-h"])


def help_print() -> None:
    """Pactboard's commands first, one line each; then Django's."""
    width = max(len(name) for name in OWN_COMMANDS)
    print("Usage: pactboard COMMAND [options]   (pactboard help COMMAND for a command's options)\n")
    print("Pactboard's commands:")
    for name, text in OWN_COMMANDS.items():
        print(f"  {name:<{width}}  {text}")
    print("\nDjango's commands:")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    command = argv[1] if len(argv) > 1 else "help"
    if command == "demo":
        # The demo is for trying Pactboard on one's own machine: local debug mode and a generated key.
        os.environ.setdefault("PACTBOARD_DEBUG", "true")
    # Commands that answer no HTTP requests may use the key the demo left in the data dir (config/local_key.py).
    local_key.non_serving_command = command not in SERVING_COMMANDS
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        if argv[1:] in HELP_REQUESTS:
            help_print()
            execute_from_command_line([argv[0], "help"])
            return
        execute_from_command_line(argv)
    except ImproperlyConfigured as exc:
        print(f"pactboard: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
