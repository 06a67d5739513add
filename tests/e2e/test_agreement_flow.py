"""The whole agreement flow in a browser: draft, propose, comment, counter-propose, sign, in force, diff."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from pactboard.core.periods import Period
from pactboard.engagements.models import ProviderProfile
from pactboard.kpis.models import AgreementVersion
from tests.conftest import World
from tests.e2e.browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# (catalogue entry, target, amber, stretch): all three are higher-is-better percentages.
KPIS = [
    ("First-contact resolution (FCR)", "75", "70", "80"),
    ("Service level (20 s)", "80", "75", "85"),
    ("Customer satisfaction (CSAT, top-two-box)", "88", "85", "92"),
]


def _add_kpi(page: Page, name: str, target: str, amber: str, stretch: str, *, first: bool, shots) -> None:
    page.get_by_label("Start from").select_option(label=name)
    page.get_by_role("button", name="Add KPI").click()
    editor = page.get_by_test_id("kpi-editor")
    expect(editor.get_by_label("Name")).to_have_value(name)
    editor.get_by_label("Resolve more issues at first contact (fcr)").check()
    editor.get_by_label(re.compile(r"^Target")).fill(target)
    editor.get_by_label("Amber threshold").fill(amber)
    editor.get_by_label("Stretch target").fill(stretch)
    if first:
        editor.get_by_label("Baseline value").fill("68")
        editor.get_by_label("Baseline period").fill("2025-Q4")
        editor.get_by_label("Baseline source").fill("Acme's in-house team, CRM case reports")
        editor.get_by_label("Milestone 1 date").fill("2026-06-30")
        editor.get_by_label("Milestone 1 interim target").fill("72")
        page.screenshot(path=str(shots / "agreement-draft-editor.png"), full_page=True)
    editor.get_by_role("button", name="Add KPI").click()
    expect(page.locator(".messages")).to_contain_text(f"KPI “{name}” added")


def test_client_drafts_provider_counters_both_sign_and_the_diff_shows_the_target(
    live_server, browser: Browser, world: World, screenshot_dir
):
    ProviderProfile.objects.create(
        organisation=world.provider_org,
        summary="Multilingual customer-support BPO.",
        certifications="ISO 27001:2022\nCOPC CX Standard",
        limitations="No weekend night shift",
    )
    base = live_server.url
    agreement_url = f"{base}/engagements/{world.engagement.pk}/agreement/"

    # The client manager drafts three KPIs (targets, thresholds; a baseline and a milestone) and proposes.
    carla = browser.new_context().new_page()
    log_in(carla, base, "carla@acme.example")
    carla.get_by_role("link", name="Acme support").click()
    carla.get_by_role("link", name="Open KPIs and agreement").click()
    expect(carla.get_by_test_id("in-force")).to_contain_text("No agreement is in force yet")
    carla.get_by_role("button", name="Start a new draft").click()
    expect(carla.get_by_role("heading", level=1)).to_contain_text("Version 1")
    expect(carla.get_by_text("ISO 27001:2022")).to_be_visible()  # the provider's profile beside the draft
    for i, (name, target, amber, stretch) in enumerate(KPIS):
        _add_kpi(carla, name, target, amber, stretch, first=i == 0, shots=screenshot_dir)
    kpis = carla.get_by_test_id("kpi")
    expect(kpis).to_have_count(3)
    fcr = kpis.filter(has_text="First-contact resolution")
    expect(fcr).to_contain_text("68 in 2025-Q4")
    expect(fcr).to_contain_text("by 30 Jun 2026: 72")
    carla.get_by_label("Effective from").fill("2026-01-01")
    carla.get_by_role("button", name="Propose version 1").click()
    expect(carla.get_by_role("heading", level=1)).to_contain_text("Proposed")
    expect(carla.get_by_test_id("remaining")).to_contain_text("Acme Retail's signature and Helpline BPO's signature")

    # The provider manager finds it awaiting signature, comments on FCR and counter-proposes a lower target.
    pedro = browser.new_context().new_page()
    log_in(pedro, base, "pedro@helpline.example")
    pedro.get_by_role("link", name="Awaiting your signature").click()
    pedro.get_by_role("link", name=re.compile("Review and sign version 1")).click()
    fcr = pedro.get_by_test_id("kpi").filter(has_text="First-contact resolution")
    fcr.get_by_label("Comment on First-contact resolution (FCR)").fill(
        "75 % is above what the previous team reached; 73 % is realistic in year one."
    )
    fcr.get_by_role("button", name="Add comment").click()
    fcr = pedro.get_by_test_id("kpi").filter(has_text="First-contact resolution")
    expect(fcr.get_by_test_id("comment")).to_contain_text("73 % is realistic in year one")
    pedro.screenshot(path=str(screenshot_dir / "agreement-proposal-review.png"), full_page=True)
    pedro.get_by_label("Counter-proposal note").fill("FCR target 73 % in year one")
    pedro.get_by_role("button", name="Counter-propose").click()
    expect(pedro.get_by_role("heading", level=1)).to_contain_text("Version 2")
    pedro.get_by_test_id("kpi").filter(has_text="First-contact resolution").get_by_role("link", name="Edit").click()
    pedro.get_by_label(re.compile(r"^Target")).fill("73")
    pedro.get_by_role("button", name="Save KPI").click()
    expect(
        pedro.get_by_test_id("kpi").filter(has_text="First-contact resolution").get_by_test_id("kpi-target")
    ).to_have_text("73")
    # The date offered is the start of the next month in the engagement's zone (Europe/Berlin), not the
    # proposal's; no version is agreed yet, so 2026-01-01 re-scores nothing.
    next_month = Period.containing("month", timezone.now().astimezone(ZoneInfo("Europe/Berlin")).date()).next()
    expect(pedro.get_by_label("Effective from")).to_have_value(next_month.start.isoformat())
    pedro.get_by_label("Effective from").fill("2026-01-01")
    pedro.get_by_role("button", name="Propose version 2").click()
    pedro.get_by_role("button", name="Sign version 2 for Helpline BPO").click()
    expect(pedro.get_by_test_id("remaining")).to_contain_text("Acme Retail's signature")

    # The client manager signs; version 2 is in force with both signatures.
    carla.get_by_role("link", name="Awaiting your signature").click()
    carla.get_by_role("link", name=re.compile("Review and sign version 2")).click()
    carla.get_by_role("button", name="Sign version 2 for Acme Retail").click()
    expect(carla.locator(".messages")).to_contain_text("it is agreed")
    carla.goto(agreement_url)
    in_force = carla.get_by_test_id("in-force")
    expect(in_force).to_contain_text("In force: version 2")
    expect(in_force.get_by_test_id("signatures")).to_contain_text("Signed by Carla")
    expect(in_force.get_by_test_id("signatures")).to_contain_text("Signed by Pedro")
    version = AgreementVersion.objects.get(engagement=world.engagement, number=2)
    assert version.status == AgreementVersion.Status.AGREED
    expect(in_force).to_contain_text(version.content_hash)
    carla.screenshot(path=str(screenshot_dir / "agreement-in-force.png"), full_page=True)

    # The diff from the proposal to the agreed version shows exactly the changed target.
    carla.get_by_role("link", name="Compare with version 1").click()
    changes = carla.get_by_test_id("diff-change")
    expect(changes).to_have_count(1)
    expect(changes).to_contain_text("First-contact resolution (FCR)")
    expect(changes.locator("td").nth(0)).to_have_text("Target")
    expect(changes.locator("del")).to_have_text("75")
    expect(changes.locator("ins")).to_have_text("73")
    expect(carla.get_by_test_id("diff-setting")).to_have_count(0)
    expect(carla.get_by_test_id("diff-added")).to_have_count(0)
    expect(carla.get_by_test_id("diff-removed")).to_have_count(0)
    carla.screenshot(path=str(screenshot_dir / "agreement-diff.png"), full_page=True)
    carla.context.close()
    pedro.context.close()
