"""Reviews: scheduling from the cadence, the generated and frozen agenda, minutes, actions, feedback."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from icalendar import Calendar

from pactboard.audit.models import AuditEvent
from pactboard.core.errors import PactboardError
from pactboard.engagements.services import business_change_record
from pactboard.governance import services
from pactboard.governance.models import ActionItem, Meeting, Notification
from tests.conftest import World
from tests.governance.conftest import NOW, OCTOBER

pytestmark = pytest.mark.django_db


def _schedule(world: World, now: datetime = NOW) -> list[Meeting]:
    return services.meetings_schedule(engagement=world.engagement, actor=world.client_manager, now=now)


def test_schedule_creates_the_next_two_reviews_once(gov: World):
    created = _schedule(gov)
    # Monthly from 2026-01-01 at 10:00 Europe/Berlin. On 10 Nov 2026 the next slots are 1 Dec 2026 (a Tuesday)
    # and 1 Jan 2027 (a Friday); Berlin is on CET (UTC+1) in winter, so 10:00 local is 09:00 UTC.
    assert [m.starts_at for m in created] == [
        datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        datetime(2027, 1, 1, 9, 0, tzinfo=UTC),
    ]
    assert _schedule(gov) == []  # idempotent: run twice, nothing new
    assert Meeting.objects.filter(engagement=gov.engagement).count() == 2
    # Attendees: managers and admins of both parties, not the client's viewer.
    assert set(created[0].attendees.all()) == {gov.client_manager, gov.provider_manager}


def test_a_weekend_slot_moves_to_the_monday_after(gov: World):
    # 2026-11-01 is a Sunday: on 20 Oct 2026 the next slot is held on Monday 2 Nov (CET, 09:00 UTC).
    created = _schedule(gov, now=datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
    assert created[0].slot == date(2026, 11, 1)
    assert created[0].starts_at == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_viewers_cannot_schedule(gov: World):
    with pytest.raises(PactboardError) as exc:
        services.meetings_schedule(engagement=gov.engagement, actor=gov.client_viewer, now=NOW)
    assert exc.value.kind == "forbidden"


def test_a_meeting_needs_a_title_and_a_start_with_its_time_zone(gov: World):
    # meeting_create checks the start's time zone first, then the title.
    for title, starts_at, location, code in (
        ("Review", datetime(2026, 11, 12, 9, 0), "starts_at", "missing_time_zone"),
        ("  ", datetime(2026, 11, 12, 9, 0, tzinfo=UTC), "title", "required"),
    ):
        with pytest.raises(PactboardError) as exc:
            services.meeting_create(
                actor=gov.client_manager, engagement=gov.engagement, title=title, starts_at=starts_at
            )
        assert [(d.location, d.code) for d in exc.value.details] == [(location, code)]
    assert not Meeting.objects.filter(engagement=gov.engagement).exists()


def _texts(agenda, key: str) -> list[str]:
    section = agenda.section(key)
    assert section is not None
    return [i.text for i in section.items]


def test_agenda_is_generated_from_the_data(gov: World):
    meeting = _schedule(gov)[0]
    overdue = services.action_create(
        actor=gov.client_manager,
        engagement=gov.engagement,
        title="Staff the evening shift",
        owner_id=gov.provider_manager.pk,
        due_date=date(2026, 11, 5),
        now=NOW,
    )
    services.action_create(
        actor=gov.client_manager,
        engagement=gov.engagement,
        title="Share the call-routing plan",
        owner_id=gov.provider_manager.pk,
        due_date=date(2026, 12, 20),
        now=NOW,
    )
    business_change_record(
        actor=gov.client_manager, engagement=gov.engagement, date=date(2026, 11, 3), kind="launch", title="New app"
    )
    services.feedback_thread_start(
        actor=gov.client_manager,
        engagement=gov.engagement,
        kpi_code="kpi_01",
        period=OCTOBER,
        title="Why did kpi_01 jump?",
        body="Please explain October.",
        now=NOW,
    )
    agenda = services.meeting_agenda(meeting=meeting, now=NOW)
    assert not agenda.frozen
    assert _texts(agenda, "kpis") == ["KPI 00: at risk in 2026-10", "KPI 01: missed in 2026-10"]
    kpi_item = agenda.section("kpis").items[0]
    assert kpi_item.url == f"/engagements/{gov.engagement.pk}/kpis/kpi_00/"
    # docs/scoring.md: the target in force for 2026-10 is the 15 Dec 2026 milestone's 78 (the earliest milestone
    # on or after the period's last day), its amber moved with it to 73; 73 ≤ 77 < 78 is at risk.
    assert kpi_item.detail == "value 77 %, target 78 %"
    assert [e.label for e in kpi_item.evidence] == ["KPI page", "Values and sources"]
    actions = agenda.section("actions").items
    assert [(a.flag, a.url) for a in actions] == [
        ("overdue", f"/engagements/{gov.engagement.pk}/actions/{overdue.pk}/"),
        ("open", actions[1].url),
    ]
    # The milestone of 15 Dec falls between this meeting (1 Dec) and the next (1 Jan).
    assert _texts(agenda, "milestones") == ["KPI 00: milestone target 78 % by 15 Dec 2026"]
    assert _texts(agenda, "changes") == ["3 Nov 2026: New app"]
    assert _texts(agenda, "feedback") == ["Why did kpi_01 jump?"]
    assert _texts(agenda, "proposals") == []


def test_agenda_freezes_when_the_meeting_starts(gov: World):
    meeting = _schedule(gov)[0]
    started = meeting.starts_at + timedelta(minutes=5)
    frozen = services.meeting_agenda(meeting=meeting, now=started)
    assert frozen.frozen
    assert _texts(frozen, "actions") == []
    # An action recorded during the meeting is not in the agenda everyone reads from now on.
    services.action_create(
        actor=gov.client_manager,
        engagement=gov.engagement,
        title="Late item",
        owner_id=gov.provider_manager.pk,
        due_date=date(2026, 12, 20),
        now=started,
        meeting=meeting,
    )
    meeting.refresh_from_db()
    again = services.meeting_agenda(meeting=meeting, now=started + timedelta(hours=3))
    assert again.as_dict() == frozen.as_dict()
    assert _texts(again, "kpis") == ["KPI 00: at risk in 2026-10", "KPI 01: missed in 2026-10"]
    freezes = AuditEvent.objects.filter(action="meeting.agenda_freeze", object_id=str(meeting.pk))
    assert freezes.count() == 1
    # The schedule service freezes too, and does not freeze twice.
    _schedule(gov, now=started + timedelta(days=1))
    assert freezes.count() == 1


def test_action_notifies_its_owner_and_refuses_an_outsider_owner(gov: World):
    action = services.action_create(
        actor=gov.client_manager,
        engagement=gov.engagement,
        title="Staff the evening shift",
        owner_id=gov.provider_manager.pk,
        due_date=date(2026, 11, 30),
        now=NOW,
    )
    notes = list(Notification.objects.for_recipient(gov.provider_manager))
    assert [(n.kind, n.cause_key, n.url) for n in notes] == [
        ("action.assigned", f"action:{action.pk}", f"/engagements/{gov.engagement.pk}/actions/{action.pk}/")
    ]
    with pytest.raises(PactboardError) as exc:
        services.action_create(
            actor=gov.client_manager,
            engagement=gov.engagement,
            title="x",
            owner_id=gov.outsider.pk,
            due_date=date(2026, 11, 30),
            now=NOW,
        )
    [detail] = exc.value.details
    assert (detail.location, detail.code) == ("owner_membership_id", "not_a_member")
    with pytest.raises(PactboardError) as exc:
        services.action_create(
            actor=gov.client_viewer,
            engagement=gov.engagement,
            title="x",
            owner_id=gov.client_manager.pk,
            due_date=date(2026, 11, 30),
            now=NOW,
        )
    assert exc.value.kind == "forbidden"
    services.action_status_set(actor=gov.provider_manager, action=action, status="done", now=NOW)
    action.refresh_from_db()
    assert (action.status, action.closed_at) == (ActionItem.Status.DONE, NOW)


def test_mentions_notify_members_of_either_party(gov: World):
    thread = services.feedback_thread_start(
        actor=gov.client_manager,
        engagement=gov.engagement,
        kpi_code="kpi_00",
        period=OCTOBER,
        title="October",
        body="@pedro@helpline.example can you check the October export?",
        now=NOW,
    )
    assert Notification.objects.for_recipient(gov.provider_manager).get().kind == "feedback.mention"
    # By the part before the @ when only one member has it; the author is never notified of themselves.
    services.feedback_comment_add(actor=gov.provider_manager, thread=thread, body="Yes @carla, and @pedro.", now=NOW)
    assert Notification.objects.for_recipient(gov.client_manager).count() == 1
    assert Notification.objects.for_recipient(gov.provider_manager).count() == 1
    with pytest.raises(PactboardError) as exc:
        services.feedback_comment_add(actor=gov.client_manager, thread=thread, body="cc @oscar@globex.example", now=NOW)
    assert "not a member of either party" in exc.value.message
    services.feedback_thread_resolve(actor=gov.provider_manager, thread=thread, resolved=True, now=NOW)
    thread.refresh_from_db()
    assert not thread.is_open


def test_invitation_carries_an_ics_event(gov: World, django_capture_on_commit_callbacks):
    meeting = _schedule(gov)[0]
    with django_capture_on_commit_callbacks(execute=True):
        sent = services.meeting_invite_send(actor=gov.client_manager, meeting=meeting, now=NOW)
    assert sent == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["carla@acme.example", "pedro@helpline.example"]
    name, content, mimetype = mail.outbox[0].attachments[0]
    assert (name, mimetype.split(";")[0]) == ("invitation.ics", "text/calendar")
    cal = Calendar.from_ical(content)
    (event,) = cal.walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert int(event["sequence"]) == 1
    assert sorted(str(a) for a in event["attendee"]) == ["mailto:carla@acme.example", "mailto:pedro@helpline.example"]
    assert str(cal["method"]) == "REQUEST"


def test_closing_the_minutes_mails_them_and_freezes_the_meeting(gov: World, django_capture_on_commit_callbacks):
    meeting = _schedule(gov)[0]
    held = meeting.starts_at + timedelta(hours=2)
    services.meeting_minutes_save(actor=gov.provider_manager, meeting=meeting, minutes="Discussed kpi_01.")
    services.decision_record(actor=gov.client_manager, meeting=meeting, text="Add a weekend shift", kpi_code="kpi_01")
    with pytest.raises(PactboardError) as exc:
        services.meeting_minutes_close(actor=gov.client_manager, meeting=meeting, now=meeting.starts_at - timedelta(1))
    assert exc.value.kind == "conflict"
    with django_capture_on_commit_callbacks(execute=True):
        services.meeting_minutes_close(actor=gov.client_manager, meeting=meeting, now=held)
    assert len(mail.outbox) == 2
    assert "Add a weekend shift" in mail.outbox[0].body
    assert "Discussed kpi_01." in mail.outbox[0].body
    with pytest.raises(PactboardError) as exc:
        services.decision_record(actor=gov.client_manager, meeting=meeting, text="Too late")
    assert exc.value.kind == "conflict"
