"""`pactboard check --deploy` in the documented production configuration (docs/production.env) is clean (issue 13)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTED = ROOT / "docs" / "production.env"


def _documented_env() -> dict[str, str]:
    values = {}
    for line in DOCUMENTED.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_check_deploy_reports_no_issue_in_the_documented_configuration(tmp_path):
    documented = _documented_env()
    # The secrets it names by file: made here, as an operator would.
    key = tmp_path / "secret_key"
    key.write_text(secrets.token_urlsafe(50), encoding="utf-8")
    smtp = tmp_path / "smtp_password"
    smtp.write_text("s3cret", encoding="utf-8")
    documented |= {
        "PACTBOARD_SECRET_KEY_FILE": str(key),
        "PACTBOARD_EMAIL_PASSWORD_FILE": str(smtp),
        "PACTBOARD_DATA_DIR": str(tmp_path / "data"),
        "PGPASSFILE": str(tmp_path / "pgpass"),
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PACTBOARD_", "DATABASE_URL", "PG", "DJANGO"))}
    env |= documented
    result = subprocess.run(
        [sys.executable, "-m", "pactboard.cli", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNING" not in output


def test_the_documented_configuration_turns_https_on():
    documented = _documented_env()
    assert documented["PACTBOARD_DEBUG"] == "false"
    assert documented["PACTBOARD_SITE_URL"].startswith("https://")
    assert int(documented["PACTBOARD_HSTS_SECONDS"]) >= 31536000
