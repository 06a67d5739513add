"""The demo's report archive: the customer-support engagement's monthly reports of the last three closed months.

Made as the schedule makes them (``reports.services.report_finalise`` without an actor): each is
final, with its PDF and data kept under the data dir and the audit head recorded. Both parties'
administrators receive the scheduled reports (no e-mail is sent while the demo loads).
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from pactboard.accounts.models import Membership
from pactboard.engagements.models import Engagement
from pactboard.reports import services
from pactboard.reports.models import Report
from pactboard.reports.selectors import report_due_period

SUPPORT = "Customer support (EMEA)"
RECIPIENTS = ("vera.client@northwind.example", "paul.provider@brightline.example")
ARCHIVED_MONTHS = 3


def demo_reports_load(*, now: datetime | None = None) -> bool:
    """Archive the last three monthly reports once; False when they are there already (or the engagement is not)."""
    now = now or timezone.now()
    engagement = Engagement.objects.filter(name=SUPPORT).select_related("client", "provider").first()
    if engagement is None or Report.objects.filter(engagement=engagement).exists():
        return False
    last = report_due_period(engagement=engagement, now=now)
    if last is None:
        return False
    for email in RECIPIENTS:
        member = Membership.objects.select_related("organisation", "user").get(user__email=email)
        services.report_recipient_add(actor=member, engagement=engagement, membership_id=member.pk)
    for back in range(ARCHIVED_MONTHS - 1, -1, -1):
        services.report_finalise(actor=None, engagement=engagement, period=last.shift(-back), now=now)
    return True
