"""The demo's settled months under Keystone's incentive scheme.

The scheme is in the data-entry engagement's document (``engagements/data-entry.yaml``,
``incentives:``), so it is signed with the KPIs when the demo imports the document as a signed
contract: 2 % or 5 % of the monthly fee below 99.5 % or 99.0 % accuracy, 1 % for a turnaround
over 10 hours, a 1 % bonus from 99.6 %, earn-back over 3 months (4 misses in 6 are chronic).
Then (monthly fee 96,000.00 EUR):

- April 2026: accuracy 98.8 % is below 99.0: 5 % = 4,800.00 credit, due at once (a chronic run:
  4 misses of 99.5 in 6 months); approved by both parties: final.
- August 2026: accuracy 99.63 % is at least 99.6: a 960.00 bonus; final.
- October 2026: accuracy 99.32 % costs 2 % = 1,920.00, pending earn-back (no later month yet);
  left as a draft awaiting approvals.
"""

from __future__ import annotations

from pactboard.accounts.models import Membership
from pactboard.engagements.models import Engagement
from pactboard.incentives import services as incentive_services
from pactboard.measurements.models import Measurement

CLIENT_ADMIN = "vera.client@northwind.example"
PROVIDER_ADMIN = "kim.manager@keystone.example"
FINAL_MONTHS = ("2026-04", "2026-08")
DRAFT_MONTH = "2026-10"


def _member(email: str) -> Membership:
    return Membership.objects.select_related("user", "organisation").get(user__email=email)


def demo_incentives_load(*, engagement: Engagement) -> None:
    """Settle the demo months that have values: two approved by both parties, the latest left as a draft."""
    client, provider = _member(CLIENT_ADMIN), _member(PROVIDER_ADMIN)
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
