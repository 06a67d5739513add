"""The task worker runs below the web processes' CPU priority (PACTBOARD_WORKER_NICE, README "Performance")."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import get_commands

from pactboard.core.management.commands import db_worker


def test_pactboard_db_worker_is_the_wrapped_command():
    # Django takes a command from the first installed app that has it: pactboard.core must come first.
    assert get_commands()["db_worker"] == "pactboard.core"


def _env(tmp_path) -> dict[str, str]:
    # As the worker runs outside the tests: the database task backend, settings from the environment.
    env = {**os.environ, "PACTBOARD_DEBUG": "true", "PACTBOARD_DATA_DIR": str(tmp_path)}
    for name in ("DJANGO_SETTINGS_MODULE", "PACTBOARD_TASKS_BACKEND", "PACTBOARD_WORKER_NICE"):
        env.pop(name, None)
    return env


def _worker_niceness(tmp_path, *, env_nice: str | None, start_nice: int = 0) -> tuple[int, str]:
    env = _env(tmp_path)
    if env_nice is not None:
        env["PACTBOARD_WORKER_NICE"] = env_nice
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "pactboard.cli", "db_worker", "--no-reload", "--interval", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
        preexec_fn=(lambda: os.nice(start_nice)) if start_nice else None,
    )
    try:
        assert proc.stdout is not None
        line = ""
        for line in proc.stdout:
            if "Worker niceness" in line:
                break
        # Read by another process, as top or ps would show it.
        return os.getpriority(os.PRIO_PROCESS, proc.pid), line
    finally:
        proc.kill()
        proc.communicate(timeout=30)


@pytest.mark.parametrize(
    ("env_nice", "start_nice", "expected"),
    [
        (None, 0, 10),  # the default
        ("15", 0, 15),
        ("0", 0, 0),  # 0 keeps the priority it was started with
        ("5", 12, 12),  # never lowered: started under `nice -n 12`, it stays there
    ],
)
def test_the_worker_lowers_its_own_priority(tmp_path, env_nice, start_nice, expected):
    niceness, line = _worker_niceness(tmp_path, env_nice=env_nice, start_nice=start_nice)
    assert niceness == expected, line
    assert f"Worker niceness {expected}" in line


def test_an_out_of_range_niceness_is_a_configuration_error(tmp_path):
    env = {**_env(tmp_path), "PACTBOARD_WORKER_NICE": "25"}
    done = subprocess.run(
        [sys.executable, "-m", "pactboard.cli", "db_worker", "--no-reload"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2
    assert "PACTBOARD_WORKER_NICE: a niceness from 0 to 19, got 25." in done.stderr


def test_priority_lower_only_raises(monkeypatch):
    calls: list[tuple[int, int, int]] = []
    state = {"nice": 3}
    monkeypatch.setattr(db_worker.os, "getpriority", lambda which, who: state["nice"])

    def setpriority(which, who, value):
        calls.append((which, who, value))
        state["nice"] = value

    monkeypatch.setattr(db_worker.os, "setpriority", setpriority)
    assert db_worker.priority_lower(1) == 3
    assert calls == []
    assert db_worker.priority_lower(10) == 10
    assert calls == [(os.PRIO_PROCESS, 0, 10)]
