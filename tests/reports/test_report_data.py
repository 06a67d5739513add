"""A report's numbers and findings, worked out by hand from docs/scoring.md and docs/reports.md."""

from __future__ import annotations

import pytest

from pactboard.measurements.selectors import scorecard_for_period
from pactboard.reports.selectors import report_data, report_due_period
from tests.conftest import World
from tests.reports.conftest import NOW, OCTOBER

pytestmark = pytest.mark.django_db


def test_kpi_breakdown_and_weighted_score(reported: World):
    data = report_data(engagement=reported.engagement, period=OCTOBER, now=NOW)
    kpis = {k["code"]: k for k in data["kpis"]}
    assert [k["code"] for k in data["kpis"]] == ["first_contact_resolution", "csat", "qa_score", "escalations"]
    # QA 92 against 90: met; attainment 92 / 90 = 1.0222 (rounded down to 4 places).
    assert (kpis["qa_score"]["value"], kpis["qa_score"]["target"], kpis["qa_score"]["status"]) == ("92", "90", "met")
    assert kpis["qa_score"]["attainment"] == "1.0222"
    # Escalations 18, lower is better, amber 15: missed; attainment 10 / 18 = 0.5555.
    assert (kpis["escalations"]["status"], kpis["escalations"]["attainment"]) == ("missed", "0.5555")
    assert kpis["first_contact_resolution"]["status"] == "no_data"
    # Weighted score over the KPIs with data, weights 1 and 1: (1.0222 + 0.5555) / 2 × 100 = 78.885 → 78.9.
    assert data["summary"]["score"] == "78.9"
    # Coverage: 2 of 4 equal weights have data.
    assert data["summary"]["coverage"] == "0.5"
    # The same number as the scorecard page's selector.
    card = scorecard_for_period(engagement=reported.engagement, period=OCTOBER).scorecard
    assert card is not None
    assert str(card.score) == data["summary"]["score"]
    assert kpis["qa_score"]["previous_value"] == "80"
    assert [h["period"] for h in kpis["qa_score"]["history"]] == [
        "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"
    ]  # fmt: skip


def test_successes_and_challenges_follow_the_documented_rules(reported: World):
    data = report_data(engagement=reported.engagement, period=OCTOBER, now=NOW)
    # QA was missed in September (80 < amber 85) and is met in October: "back on target".
    assert data["successes"] == ["QA score is back on target: 92 % against 90 %, from 80 % the period before."]
    assert data["challenges"] == [
        "First-contact resolution (FCR) has no value for 2026-10: the data is late or missing.",
        "Customer satisfaction (CSAT, top-two-box) has no value for 2026-10: the data is late or missing.",
        "Escalations missed its target: 18 against 10.",
    ]


def test_business_changes_actions_and_audit_head(reported: World):
    data = report_data(engagement=reported.engagement, period=OCTOBER, now=NOW)
    assert [c["date"] for c in data["business_changes"]] == ["2026-10-12"]
    assert [(a["title"], a["overdue"]) for a in data["actions"]] == [("Cut escalations back under 10", False)]
    assert data["audit"]["chain"] == f"engagement:{reported.engagement.pk}"
    assert len(data["audit"]["head_hash"]) == 64


def test_the_due_period_is_the_last_closed_one_of_the_cadence(reported: World):
    # 10 November 2026 in Berlin: October has closed, November has not.
    assert report_due_period(engagement=reported.engagement, now=NOW).label == "2026-10"
    reported.engagement.report_cadence = "quarterly"
    assert report_due_period(engagement=reported.engagement, now=NOW).label == "2026-Q3"
