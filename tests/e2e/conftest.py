"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Skipped with a clear reason where Chromium is absent, but failed when the environment variable CI
is set: there a missing browser must not pass as green. .ci/run installs it so they run there.
Screenshots go to test-artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# The live server runs in a thread beside Playwright's event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("PACTBOARD_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


CHROMIUM_MISSING = f"Chromium not found at {CHROMIUM}: install Debian's chromium (see .ci/run)"


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=CHROMIUM_MISSING)
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # Under CI a missing browser must not pass as green: each browser test fails, before Playwright
    # tries to launch it, with the reason.
    if "e2e" in item.keywords and os.environ.get("CI") and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM_MISSING}; CI is set, so browser tests fail instead of skipping", pytrace=False)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(autouse=True)
def _close_what_the_test_left_open(request):
    """Close every browser context a test opened and left open.

    pytest-playwright closes its own ``page`` and ``context``; a context from ``browser.new_context()``
    or ``browser.new_page()`` lives as long as the session's browser. A dashboard left open polls the
    live server every second for the rest of the run, and the pages it renders there (the log-in page,
    once the test's data is gone) reached the template contexts that a later test's client read.
    """
    browser = request.getfixturevalue("browser") if "browser" in request.fixturenames else None
    yield
    if browser is not None:
        for context in list(browser.contexts):
            context.close()
