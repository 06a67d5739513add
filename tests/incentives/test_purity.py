"""The incentive arithmetic is pure: importing it loads no Django (docs/incentives.md, ARCHITECTURE "floors")."""

from __future__ import annotations

import subprocess
import sys


def test_calc_imports_no_django() -> None:
    code = (
        "import sys, pactboard.incentives.calc\n"
        "sys.exit(1 if any(m.split('.')[0] == 'django' for m in sys.modules) else 0)"
    )
    # A fresh interpreter: this test process has Django loaded by pytest-django already.
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr or "pactboard.incentives.calc imported Django"
