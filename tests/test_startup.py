"""A serving process loads its URLconf at start-up and freezes what it loaded (config/startup.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = """
import gc, json, sys
import {module}
print(json.dumps({{"frozen": gc.get_freeze_count(), "urls": "config.urls" in sys.modules,
                  "app": callable({module}.application)}}))
"""


@pytest.mark.parametrize("module", ["config.wsgi", "config.asgi"])
def test_the_served_application_has_its_urls_loaded_and_its_heap_frozen(tmp_path, module):
    env = {**os.environ, "PACTBOARD_DEBUG": "true", "PACTBOARD_DATA_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["app"]
    assert seen["urls"]
    # Django, the apps and their modules: well over 100,000 objects (about 230,000 when measured).
    assert seen["frozen"] > 100_000
