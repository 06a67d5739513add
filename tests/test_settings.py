"""Configuration from the environment: bad values stop start-up with a message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _start(env_overrides: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PACTBOARD_", "DATABASE_URL", "PG"))}
    env.update({"PACTBOARD_DATA_DIR": str(tmp_path / "data"), "DJANGO_SETTINGS_MODULE": "config.settings"})
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "pactboard.cli", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({}, "PACTBOARD_SECRET_KEY"),  # DEBUG off and no key
        ({"PACTBOARD_SECRET_KEY": "short"}, "PACTBOARD_SECRET_KEY"),
        ({"PACTBOARD_DEBUG": "maybe"}, "PACTBOARD_DEBUG"),
        ({"PACTBOARD_DEBUG": "true", "DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL"),
        ({"PACTBOARD_DEBUG": "true", "PACTBOARD_EMAIL_URL": "http://mail"}, "PACTBOARD_EMAIL_URL"),
        ({"PACTBOARD_DEBUG": "true", "PACTBOARD_SECRET_KEY_FILE": "/nonexistent/key"}, "PACTBOARD_SECRET_KEY_FILE"),
        ({"PACTBOARD_DEBUG": "true", "PACTBOARD_INVITATION_TTL_DAYS": "seven"}, "PACTBOARD_INVITATION_TTL_DAYS"),
    ],
)
def test_bad_configuration_names_the_variable(overrides, variable, tmp_path):
    result = _start(overrides, tmp_path)
    assert result.returncode != 0
    assert variable in result.stderr, result.stderr


def test_secret_key_from_file_and_good_configuration_starts(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("k" * 50 + "\n")
    result = _start(
        {"PACTBOARD_SECRET_KEY_FILE": str(key_file), "PACTBOARD_EMAIL_URL": "smtp://u:p@mail.example:2525"}, tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
