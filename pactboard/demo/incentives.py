"""The demo's incentive scheme: Keystone's data-entry agreement gains a signed scheme and settled months.

Version 2 of the agreement (the same KPIs) adds the scheme below, proposed by the client and
signed by both parties, in force from the start of the contract. Then (monthly fee 96,000.00 EUR):

- April 2026: accuracy 98.8 % is below 99.0: 5 % = 4,800.00 credit, due at once (a chronic run:
  4 misses of 99.5 in 6 months); approved by both parties: final.
- August 2026: accuracy 99.63 % is at least 99.6: a 960.00 bonus; final.
- October 2026: accuracy 99.32 % costs 2 % = 1,920.00, pending earn-back (no later month yet);
  left as a draft awaiting approvals.
"""

from __future__ import annotations

from typing import Any

from pactboard.accounts.models import Membership
from pactboard.engagements.models import Engagement
from pactboard.incentives import services as incentive_services
from pactboard.kpis import services as kpi_services
from pactboard.measurements.models import Measurement

CLIENT_ADMIN = "vera.client@northwind.example"
PROVIDER_ADMIN = "kim.manager@keystone.example"
FINAL_MONTHS = ("2026-04", "2026-08")
DRAFT_MONTH = "2026-10"


def _percent(percent: str) -> dict[str, str]:
    return {"percent": percent, "base": "monthly_fee"}


DEMO_SCHEME: dict[str, Any] = {
    "currency": "EUR",
    "credit_rules": [
        {
            "type": "bands",
            "code": "accuracy-credit",
            "kpi": "accuracy_rate",
            "critical": True,
            "label": "Accuracy service level (99.5 %)",
            "bands": [
                {"upper": {"value": "99.0", "inclusive": False}, "amount": _percent("5")},
                {
                    "lower": {"value": "99.0", "inclusive": True},
                    "upper": {"value": "99.5", "inclusive": False},
                    "amount": _percent("2"),
                },
                {"lower": {"value": "99.5", "inclusive": True}, "label": "met"},
            ],
        },
        {
            "type": "bands",
            "code": "turnaround-credit",
            "kpi": "turnaround_time",
            "earn_back": False,
            "bands": [
                {"upper": {"value": "10", "inclusive": True}, "label": "met"},
                {"lower": {"value": "10", "inclusive": False}, "amount": _percent("1")},
            ],
        },
    ],
    "bonus_rules": [
        {
            "code": "accuracy-bonus",
            "kpi": "accuracy_rate",
            "bands": [
                {"upper": {"value": "99.6", "inclusive": False}},
                {"lower": {"value": "99.6", "inclusive": True}, "amount": _percent("1")},
            ],
        }
    ],
    "credit_cap": _percent("10"),
    "bonus_cap": _percent("2"),
    "earn_back": {"periods": 3, "chronic_misses": 4, "chronic_window": 6},
    "renewal": {"score_target": "95", "periods_required": 10, "window": 12},
}


def _member(email: str) -> Membership:
    return Membership.objects.select_related("user", "organisation").get(user__email=email)


def demo_incentives_load(*, engagement: Engagement) -> None:
    """Sign the scheme into a new agreement version and settle the demo months that have values."""
    client, provider = _member(CLIENT_ADMIN), _member(PROVIDER_ADMIN)
    draft = kpi_services.version_draft_start(
        actor=client, engagement=engagement, note="Adds the incentive scheme: service credits, a bonus, earn-back."
    )
    incentive_services.version_scheme_set(actor=client, version=draft, scheme=DEMO_SCHEME)
    proposed = kpi_services.version_propose(actor=client, version=draft, effective_from=engagement.start_date)
    kpi_services.version_sign(actor=client, version=proposed)
    kpi_services.version_sign(actor=provider, version=proposed)
    measured = {
        f"{d:%Y-%m}"
        for d in Measurement.objects.filter(engagement=engagement, kpi_code="accuracy_rate").values_list(
            "period_start", flat=True
        )
    }
    for month in (*FINAL_MONTHS, DRAFT_MONTH):
        if month not in measured:
            continue
        settlement = incentive_services.settlement_draft(actor=provider, engagement=engagement, period=month)
        if month in FINAL_MONTHS:
            settlement = incentive_services.settlement_approve(actor=client, settlement=settlement)
            incentive_services.settlement_approve(actor=provider, settlement=settlement)
