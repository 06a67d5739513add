"""The `pactboard` console script: its help lists Pactboard's own commands first."""

from __future__ import annotations

from django.core.management import get_commands

from pactboard.cli import main


def test_help_lists_pactboards_own_commands_first_one_line_each(capsys):
    main(["pactboard", "--help"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Usage: pactboard COMMAND")
    start = lines.index("Pactboard's commands:") + 1
    own = []
    for line in lines[start:]:
        if not line.strip():
            break
        name, _, text = line.strip().partition(" ")
        assert text.strip(), f"{name} has no one-line description"
        own.append(name)
    # Every command of a Pactboard app, and the task worker and scheduler the README names, in the first block.
    expected = {name for name, app in get_commands().items() if app.startswith("pactboard")} | {
        "db_worker",
        "scheduler",
    }
    assert set(own) == expected
    assert start < lines.index("Django's commands:")
