"""What the browser tests do alike: log in through the real form."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD


def log_in(page: Page, base: str, email: str) -> None:
    """Log in as ``email`` (password ``tests.conftest.PASSWORD``) and wait for the engagements page."""
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Engagements")).to_be_visible()
