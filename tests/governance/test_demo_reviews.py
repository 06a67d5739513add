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
