"""The `pactboard` console script: every Django management command plus Pactboard's own."""

from __future__ import annotations

import os
import sys

from config import local_key

# Commands that answer HTTP requests: they never fall back to the demo's local key.
SERVING_COMMANDS = frozenset({"runserver", "testserver", "demo"})


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
        execute_from_command_line(argv)
    except ImproperlyConfigured as exc:
        print(f"pactboard: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
