"""A report in a browser: the page with its charts drawn, edited texts, and the scorecard's CSV download."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from pactboard.core.vega import vega_bundle_ensure
from tests.conftest import World
from tests.e2e.browser import log_in
from tests.measurements.conftest import agreed  # noqa: F401 - a fixture, used by name
from tests.reports.conftest import reported  # noqa: F401 - a fixture, used by name

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_report_page_and_scorecard_csv_download(
    live_server,
    browser: Browser,
    reported: World,  # noqa: F811 - the fixture imported above, by name
    screenshot_dir,
):
    vega_bundle_ensure()
    pk = reported.engagement.pk
    page = browser.new_page(accept_downloads=True)
    log_in(page, live_server.url, reported.provider_manager.user.email)
    page.goto(f"{live_server.url}/engagements/{pk}/reports/2026-10/")
    expect(page.get_by_role("heading", name="Report 2026-10")).to_be_visible()
    expect(page.get_by_test_id("report-status")).to_have_text("Draft")
    expect(page.get_by_test_id("report-score")).to_have_text("78.9")
    expect(page.get_by_test_id("report-kpis").locator("tr[data-kpi='qa_score']")).to_contain_text("92 %")
    expect(page.get_by_test_id("chart-attainment")).to_have_class(re.compile(r"\bis-drawn\b"))
    # A manager rewrites the successes; the page shows them instead of the derived ones.
    page.get_by_role("textbox", name="Successes").fill("Backlog cleared in October")
    page.get_by_test_id("save-texts").click()
    expect(page.get_by_test_id("report-successes")).to_contain_text("Backlog cleared in October")
    page.screenshot(path=str(screenshot_dir / "report-page.png"), full_page=True)

    page.goto(f"{live_server.url}/engagements/{pk}/scorecard/?period=2026-10")
    with page.expect_download() as info:
        page.get_by_test_id("scorecard-csv").click()
    download = info.value
    assert download.suggested_filename == f"scorecard-{pk}-2026-10.csv"
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:5] == ["code", "name", "unit", "value", "target"]
    qa = next(r for r in rows if r and r[0] == "qa_score")
    assert qa[3:5] == ["92", "90"]
