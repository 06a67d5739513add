"""Browser tests fail instead of skipping when CI is set and Chromium is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# A failure while setting up a test is counted as an error: either way the run is red.
@pytest.mark.parametrize(("ci", "outcome"), [("", "skipped"), ("true", "error")])
def test_a_missing_chromium_skips_locally_and_fails_under_ci(ci, outcome, tmp_path):
    # One browser test in a subprocess, pointed at a Chromium that is not there.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PACTBOARD_CHROMIUM": str(tmp_path / "no-chromium")}
    if ci:
        env["CI"] = ci
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "e2e",
         "tests/e2e/test_engagement_flow.py", "-k", "not nothing"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    summary = result.stdout.strip().splitlines()[-1]
    assert outcome in summary, result.stdout[-2000:]
    assert "passed" not in summary, summary
    if not ci:
        assert result.returncode == 0
    if ci:
        assert result.returncode != 0
        assert "CI is set" in result.stdout
        assert "skipped" not in summary, summary
