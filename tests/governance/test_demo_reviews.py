"""The demo's reviews: one held with minutes and actions (one overdue), the next with an agenda, open feedback."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from pactboard.demo.history import DATA_ENTRY
from pactboard.governance import selectors, services
from pactboard.governance.models import FeedbackThread, Meeting, Notification

pytestmark = pytest.mark.django_db


def test_demo_has_a_held_review_an_upcoming_agenda_and_open_feedback():
    call_command("demo", "--no-serve", stdout=io.StringIO())
    now = timezone.now()
    meetings = list(Meeting.objects.filter(engagement__name=DATA_ENTRY).order_by("starts_at"))
    held = [m for m in meetings if m.starts_at <= now]
    upcoming = [m for m in meetings if m.starts_at > now]
    assert len(held) == 1
    assert len(upcoming) == 2
    assert held[0].minutes_closed_at is not None
    assert held[0].agenda is not None  # frozen with the meeting
    actions = list(held[0].actions.all())
    today = selectors.local_today(engagement=held[0].engagement, now=now)
    assert sorted(a.due_date < today for a in actions) == [False, True]  # one overdue, one not
    agenda = services.meeting_agenda(meeting=upcoming[0], now=now)
    assert not agenda.frozen
    flags = {i.flag for s in agenda.sections for i in s.items}
    assert {"at_risk", "overdue", "feedback"} <= flags
    assert FeedbackThread.objects.filter(engagement__name=DATA_ENTRY, resolved_at__isnull=True).count() == 1
    kim = Notification.objects.filter(recipient__user__email="kim.manager@keystone.example")
    assert set(kim.values_list("kind", flat=True)) >= {"action.assigned", "feedback.mention", "meeting.minutes"}


def test_demo_has_a_chronic_kpi_flagged_on_its_tile_and_kpi_page():
    from pactboard.accounts.models import Membership
    from pactboard.demo.history import SALES
    from pactboard.engagements.selectors import engagement_lookup
    from pactboard.governance.models import Alert
    from tests.conftest import client_for

    call_command("demo", "--no-serve", stdout=io.StringIO())
    sales = engagement_lookup(ref=SALES)
    # Revenue growth (higher is better, target 2, amber 0.5; demo/engagements): August 0.3, September 0.2
    # and October 0.4 (repeated in later months) are all below the amber: missed three months in a row,
    # so chronic (N = 3, the default) from August 2026 until a month is met again.
    open_chronic = Alert.objects.filter(engagement=sales, kind="chronic", cleared_at__isnull=True)
    assert list(open_chronic.values_list("cause_key", flat=True)) == ["chronic:revenue_growth:2026-08"]
    vera = client_for(Membership.objects.get(user__email="vera.client@northwind.example"))
    dashboard = vera.get(f"/engagements/{sales.pk}/dashboard/").content.decode()
    assert dashboard.count('data-testid="tile-chronic"') == 1
    page = vera.get(f"/engagements/{sales.pk}/kpis/revenue_growth/").content.decode()
    assert "Chronic: missed in a row since 2026-08" in page
