"""Configuration from the environment: bad values stop start-up with a message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _start(
    env_overrides: dict[str, str], tmp_path: Path, command: tuple[str, ...] = ("-m", "pactboard.cli", "check")
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PACTBOARD_", "DATABASE_URL", "PG"))}
    env.update({"PACTBOARD_DATA_DIR": str(tmp_path / "data"), "DJANGO_SETTINGS_MODULE": "config.settings"})
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, *command],
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
        ({"PACTBOARD_DEBUG": "true", "PACTBOARD_STORAGE_URL": "/srv/pactboard"}, "PACTBOARD_STORAGE_URL"),
        ({"PACTBOARD_DEBUG": "true", "PACTBOARD_STORAGE_URL": "s3://bucket/../x"}, "PACTBOARD_STORAGE_URL"),
        ({"PACTBOARD_DEBUG": "true", "PACTBOARD_S3_ENDPOINT_URL": "minio:9000"}, "PACTBOARD_S3_ENDPOINT_URL"),
        ({"PACTBOARD_DEBUG": "true", "PACTBOARD_S3_ACCESS_KEY_ID": "only-the-id"}, "PACTBOARD_S3_ACCESS_KEY_ID"),
        ({"PACTBOARD_DEBUG": "true", "PACTBOARD_S3_SECRET_ACCESS_KEY_FILE": "/nonexistent"}, "PACTBOARD_S3_SECRET"),
        ({"PACTBOARD_DEBUG": "true", "PACTBOARD_INGEST_TIMEOUT_SECONDS": "0"}, "PACTBOARD_INGEST_TIMEOUT_SECONDS"),
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


# --- after `pactboard demo`: the local key, for commands that serve nothing -----------------------


@pytest.fixture
def demo_key(tmp_path: Path) -> Path:
    """A data dir holding a key as `pactboard demo` (debug on) leaves it, as after the Quickstart.

    Written here as settings write it (a random token, mode 600) rather than by a debug start, which
    takes a Django start-up more on this slow machine; test_debug_generates_the_local_key covers that step.
    """
    key = tmp_path / "data" / "secret_key"
    key.parent.mkdir()
    key.write_text("demo-generated-" + "k" * 50, encoding="utf-8")
    key.chmod(0o600)
    return key


def test_debug_generates_the_local_key(tmp_path):
    result = _start({"PACTBOARD_DEBUG": "true"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert len((tmp_path / "data" / "secret_key").read_text(encoding="utf-8").strip()) >= 50


def test_commands_after_the_demo_need_no_variables(demo_key, tmp_path):
    # README: the commands work in the same shell after the demo, debug off and no key set.
    result = _start({}, tmp_path, ("-m", "pactboard.cli", "engagement", "schema"))
    assert result.returncode == 0, result.stderr
    assert '"title": "Document"' in result.stdout or '"$schema"' in result.stdout


def test_mypy_django_plugin_loads_the_settings_after_the_demo(demo_key, tmp_path):
    # What a plain `uv run mypy` does first: django-stubs' plugin sets Django up from config.settings.
    code = "from mypy_django_plugin.django.context import initialize_django; initialize_django('config.settings')"
    result = _start({}, tmp_path, ("-c", code))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("-m", "pactboard.cli", "runserver", "127.0.0.1:0", "--noreload"),
        ("-m", "pactboard.cli", "demo", "--port", "0"),
        ("-c", "import config.wsgi"),  # what gunicorn and any WSGI server import
    ],
    ids=["runserver", "demo-without-debug", "wsgi"],
)
def test_serving_without_debug_and_without_a_key_still_refuses(demo_key, tmp_path, command):
    # A server must never sign sessions with a key generated for local use, even where one lies in the data dir.
    result = _start({"PACTBOARD_DEBUG": "false"}, tmp_path, command)
    assert result.returncode != 0
    assert "PACTBOARD_SECRET_KEY: required when PACTBOARD_DEBUG is off" in result.stderr, result.stderr


def test_without_a_demo_key_commands_still_refuse(tmp_path):
    # No key set and none generated yet: nothing is generated behind the user's back with debug off.
    result = _start({}, tmp_path, ("-m", "pactboard.cli", "engagement", "schema"))
    assert result.returncode != 0
    assert "PACTBOARD_SECRET_KEY" in result.stderr
    assert not (tmp_path / "data" / "secret_key").exists()


@pytest.mark.parametrize("name", ["django.tasks", "django_tasks_db", "django.request", "pactboard.governance"])
def test_each_log_record_reaches_one_console_handler(name):
    """A worker's "Task id=... state=RUNNING" line was printed twice: Django's own ``django`` logger has a
    console handler (DEBUG only) and propagates to the root's. Every logger must reach exactly one stream."""
    import logging

    logger: logging.Logger | None = logging.getLogger(name)
    streams = []
    while logger is not None:
        streams += [h for h in logger.handlers if type(h) is logging.StreamHandler]
        logger = logger.parent if logger.propagate else None
    assert len(streams) == 1, streams
