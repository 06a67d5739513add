"""Import 10,000 values through the pages: one bad row refuses the file and is named; the fixed file loads.

Also: a value typed into a KPI's values fragment (HTMX), and an import page that updates itself while
the worker runs.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from pactboard.measurements import services
from pactboard.measurements.models import ImportBatch, Measurement
from tests.conftest import World
from tests.e2e.browser import log_in
from tests.measurements.test_big_import import (
    AFTER_THE_LAST_WEEK,
    BAD_ROW,
    KPIS,
    WEEKS,
    values_file_write,
    weekly_kpis_agree,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "uploads"
    settings.DATASETS_DIR = tmp_path / "datasets"


@pytest.fixture(autouse=True)
def _after_the_last_week(monkeypatch):
    # Values are refused for weeks not yet begun: the file's 100 weeks must all have begun.
    monkeypatch.setattr(timezone, "now", lambda: AFTER_THE_LAST_WEEK)


def test_bad_row_in_10000_is_named_and_nothing_written_then_the_fixed_file_loads(
    live_server, page: Page, world: World, screenshot_dir, tmp_path
):
    weekly_kpis_agree(world)
    bad = values_file_write(tmp_path / "weekly-values.csv", bad=True)
    log_in(page, live_server.url, "pedro@helpline.example")
    page.get_by_role("link", name="Acme support").click()
    page.get_by_role("link", name="Data", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Data")).to_be_visible()
    expect(page.get_by_test_id("kpi-list").get_by_role("row")).to_have_count(KPIS + 1)

    page.get_by_label("File of values").set_input_files(bad)
    page.get_by_role("button", name="Upload and check").click()
    status = page.get_by_test_id("batch-status")
    expect(status.get_by_role("status")).to_contain_text("Refused: nothing was written", timeout=60_000)
    errors = page.get_by_test_id("import-errors")
    expect(errors).to_contain_text("Nothing was written.")
    expect(errors.locator("tbody tr")).to_have_count(1)
    cells = errors.locator("tbody tr").first.locator("td")
    expect(cells.nth(0)).to_have_text(str(BAD_ROW))
    expect(cells.nth(1)).to_have_text("value")
    expect(cells.nth(2)).to_contain_text("4O2")
    page.screenshot(path=str(screenshot_dir / "import-refused.png"), full_page=True)
    assert not Measurement.objects.exists()

    page.get_by_role("link", name="Upload a corrected file").click()
    good = values_file_write(tmp_path / "weekly-values-fixed.csv", bad=False)
    page.get_by_label("File of values").set_input_files(good)
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_test_id("batch-status").get_by_role("status")).to_contain_text(
        "10000 new values", timeout=60_000
    )
    expect(page.get_by_role("progressbar")).to_have_attribute("value", "1")
    page.screenshot(path=str(screenshot_dir / "import-loaded.png"), full_page=True)
    assert Measurement.objects.count() == KPIS * WEEKS

    page.get_by_role("link", name="See the KPIs and their values").click()
    page.get_by_role("link", name="Values of Items handled, queue 007").click()
    expect(page.get_by_test_id("values-table").locator("tbody")).to_have_count(WEEKS)
    page.screenshot(path=str(screenshot_dir / "kpi-values.png"), full_page=False)

    page.goto(f"{live_server.url}/engagements/{world.engagement.pk}/scorecard/?period=2026-W10")
    expect(page.get_by_test_id("coverage")).to_contain_text("100 %")
    page.screenshot(path=str(screenshot_dir / "scorecard-week.png"), full_page=False)


def test_value_typed_into_the_fragment_and_corrected_with_a_reason(
    live_server, page: Page, world: World, screenshot_dir
):
    weekly_kpis_agree(world)
    log_in(page, live_server.url, "pedro@helpline.example")
    page.goto(f"{live_server.url}/engagements/{world.engagement.pk}/kpis/queue_001_items/values/")
    fragment = page.get_by_test_id("kpi-values")
    fragment.get_by_label("Period").fill("2026-W10")
    fragment.get_by_label("Value").fill("512")
    fragment.get_by_role("button", name="Record value").click()
    expect(fragment.get_by_role("status")).to_have_text("Items handled, queue 001 2026-W10: 512 recorded.")
    fragment.get_by_label("Period").fill("2026-W10")
    fragment.get_by_label("Value").fill("521")
    fragment.get_by_role("button", name="Record value").click()
    # Refused in place (422 swapped by the fragment), at the reason field.
    expect(page.locator(".field.has-error")).to_contain_text("a correction needs a reason")
    fragment.get_by_label("Reason for the correction").fill("Digits swapped when typing")
    fragment.get_by_role("button", name="Record value").click()
    expect(fragment.get_by_role("status")).to_contain_text("corrected to 521")
    group = page.locator('tbody[data-period="2026-W10"]')
    expect(group.locator("tr")).to_have_count(2)
    expect(group).to_contain_text("Digits swapped when typing")
    page.screenshot(path=str(screenshot_dir / "kpi-values-corrected.png"), full_page=True)


def test_import_page_updates_itself_while_the_worker_runs(live_server, page: Page, world: World, tmp_path):
    weekly_kpis_agree(world)
    path = tmp_path / "week-10.csv"
    path.write_text("kpi,period,value\nqueue_000_items,2026-W10,480\n", encoding="utf-8")
    batch = services.import_batch_start(
        actor=world.provider_manager, engagement=world.engagement, kind="values", source=path, file_name=path.name
    )
    log_in(page, live_server.url, "carla@acme.example")
    page.goto(f"{live_server.url}/engagements/{world.engagement.pk}/imports/{batch.pk}/")
    status = page.get_by_test_id("batch-status")
    expect(status.get_by_role("status")).to_contain_text("Waiting to start")
    expect(status).to_have_attribute("aria-busy", "true")
    services.values_import_run(batch_id=batch.pk)  # what the worker does
    expect(status.get_by_role("status")).to_contain_text("Loaded", timeout=5_000)
    expect(status).to_have_attribute("aria-busy", "false")
    assert ImportBatch.objects.get().status == "done"
    expect(page.get_by_role("link", name=re.compile("See the KPIs"))).to_be_visible()
