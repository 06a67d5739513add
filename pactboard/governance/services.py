"""Writes for governance: scheduling reviews, freezing agendas, minutes, decisions, actions, feedback.

Each service owns its transaction and writes its audit event; notifications are recorded in the
same transaction and e-mailed after it commits. ``now`` is a keyword so tests choose the time.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django.db import transaction
from django.urls import reverse

from pactboard.accounts.models import Membership, Role
from pactboard.audit.services import audit_record
from pactboard.core.errors import ErrorDetail, PactboardError, invalid
from pactboard.core.locks import for_update
from pactboard.core.periods import Period, zone
from pactboard.engagements.models import Engagement
from pactboard.engagements.selectors import engagement_people
from pactboard.governance import policy
from pactboard.governance.action_owners import FIRST_OWNER_RULE, NOT_A_MEMBER, OWNER_FIELD
from pactboard.governance.agenda import Agenda
from pactboard.governance.invitations import meeting_ics
from pactboard.governance.models import (
    ActionItem,
    Decision,
    FeedbackComment,
    FeedbackThread,
    Meeting,
    MeetingAttendee,
)
from pactboard.governance.notify import Attachment, notify
from pactboard.governance.selectors import meeting_agenda_live, meeting_attendees
from pactboard.kpis.selectors import engagement_kpi_names

REVIEW_TIME = time(10, 0)  # local time of a scheduled review, in the engagement's zone
REVIEW_MINUTES = 60
SCHEDULE_AHEAD = 2  # upcoming meetings kept scheduled
CADENCE_MONTHS = {"monthly": 1, "quarterly": 3}
MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9._%+-]+(?:@[A-Za-z0-9.-]+\.[A-Za-z]{2,})?)")


def _audit(actor: Membership | None, action: str, obj: Any, engagement_id: int, **after: Any) -> None:
    audit_record(
        actor=actor.user if actor else None,
        organisation=actor.organisation if actor else None,
        action=action,
        obj=obj,
        after=after or None,
        engagement_id=engagement_id,
    )


# --- scheduling -----------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cadence_slot(*, start: date, cadence: str, n: int) -> date:
    """The n-th occurrence of the cadence, counted from the engagement's start day."""
    if cadence == "weekly":
        return start + timedelta(weeks=n)
    return _add_months(start, n * CADENCE_MONTHS.get(cadence, 1))


def slot_day(slot: date) -> date:
    """The working day a slot's meeting is held on: a Saturday or Sunday slot moves to the Monday after."""
    return slot + timedelta(days=(7 - slot.weekday()) % 7 if slot.weekday() >= 5 else 0)


def meetings_schedule(
    *, engagement: Engagement, actor: Membership | None, now: datetime, ahead: int = SCHEDULE_AHEAD
) -> list[Meeting]:
    """Create the next ``ahead`` reviews the cadence calls for (none twice) and freeze the agendas of started ones.

    Safe to run any number of times: a meeting is keyed by its cadence slot. ``actor`` is None for the
    operator's command.
    """
    if actor is not None:
        policy.engagement_require(actor=actor, engagement=engagement, action="schedule")
    tz = zone(engagement.time_zone)
    created: list[Meeting] = []
    with transaction.atomic():
        for_update(Engagement.objects.all()).filter(pk=engagement.pk).first()  # one scheduler at a time
        existing = set(Meeting.objects.filter(engagement=engagement).values_list("slot", flat=True))
        attendees = list(
            Membership.objects.filter(
                organisation_id__in=[engagement.client_id, engagement.provider_id], role__in=[Role.ADMIN, Role.MANAGER]
            )
        )
        upcoming, n = 0, 0
        while upcoming < ahead:
            slot = cadence_slot(start=engagement.start_date, cadence=engagement.review_cadence, n=n)
            n += 1
            if slot > engagement.end_date:
                break
            starts_at = datetime.combine(slot_day(slot), REVIEW_TIME, tzinfo=tz)
            if starts_at <= now:
                continue
            upcoming += 1
            if slot in existing:
                continue
            meeting = Meeting.objects.create(
                engagement=engagement,
                slot=slot,
                title=f"{engagement.name} review, {slot_day(slot):%-d %b %Y}",
                starts_at=starts_at,
                duration_minutes=REVIEW_MINUTES,
            )
            MeetingAttendee.objects.bulk_create([MeetingAttendee(meeting=meeting, membership=m) for m in attendees])
            _audit(actor, "meeting.schedule", meeting, engagement.pk, starts_at=starts_at, slot=slot)
            created.append(meeting)
    for meeting in Meeting.objects.filter(engagement=engagement, starts_at__lte=now, agenda__isnull=True):
        meeting_agenda_freeze(meeting=meeting, now=now)
    return created


def meeting_create(
    *,
    actor: Membership,
    engagement: Engagement,
    title: str,
    starts_at: datetime,
    duration_minutes: int = REVIEW_MINUTES,
    location: str = "",
    attendee_ids: list[int] | None = None,
    slot: date | None = None,
) -> Meeting:
    """Schedule one review by hand (an extra one, or one held before Pactboard); attendees default to the managers.

    ``slot`` ties it to a cadence occurrence, so the schedule service does not create that one again.
    """
    if starts_at.tzinfo is None:
        raise invalid("Give the start with its time zone.", location="starts_at", code="missing_time_zone")
    if not title.strip():
        raise invalid("Give the meeting a title.", location="title", code="required")
    people = engagement_people(engagement=engagement)
    attendees = (
        list(people.filter(pk__in=attendee_ids))
        if attendee_ids is not None
        else list(people.filter(role__in=[Role.ADMIN, Role.MANAGER]))
    )
    with transaction.atomic():
        policy.engagement_require(actor=actor, engagement=engagement, action="schedule")
        if slot is not None and Meeting.objects.filter(engagement=engagement, slot=slot).exists():
            raise PactboardError(f"A review for the slot of {slot:%-d %b %Y} already exists.", kind="conflict")
        meeting = Meeting.objects.create(
            engagement=engagement,
            slot=slot,
            title=title.strip(),
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            location=location,
        )
        MeetingAttendee.objects.bulk_create([MeetingAttendee(meeting=meeting, membership=m) for m in attendees])
        _audit(
            actor, "meeting.create", meeting, engagement.pk, starts_at=starts_at, attendees=[m.pk for m in attendees]
        )
    return meeting


# --- agenda ---------------------------------------------------------------------------------------


def meeting_agenda(*, meeting: Meeting, now: datetime) -> Agenda:
    """The meeting's agenda: generated from the data until the meeting starts, then the frozen snapshot."""
    if meeting.agenda is not None:
        return Agenda.from_dict(meeting.agenda, frozen=True)
    if meeting.has_started(now):
        return meeting_agenda_freeze(meeting=meeting, now=now)
    return meeting_agenda_live(meeting=meeting, now=now)


def meeting_agenda_freeze(*, meeting: Meeting, now: datetime) -> Agenda:
    """Store the agenda as it stood when the meeting started (once: a frozen agenda never changes)."""
    with transaction.atomic():
        locked = for_update(Meeting.objects.all()).select_related("engagement").get(pk=meeting.pk)
        if locked.agenda is not None:
            meeting.agenda, meeting.agenda_frozen_at = locked.agenda, locked.agenda_frozen_at
            return Agenda.from_dict(locked.agenda, frozen=True)
        # Built as of the start: dates and "created before" cuts use the meeting's start, values as stored now.
        agenda = meeting_agenda_live(meeting=locked, now=min(now, locked.starts_at))
        locked.agenda, locked.agenda_frozen_at = agenda.as_dict(), now
        locked.save(update_fields=["agenda", "agenda_frozen_at", "updated_at"])
        _audit(
            None,
            "meeting.agenda_freeze",
            locked,
            locked.engagement_id,
            items=sum(len(s.items) for s in agenda.sections),
        )
    meeting.agenda, meeting.agenda_frozen_at = locked.agenda, locked.agenda_frozen_at
    return Agenda.from_dict(locked.agenda, frozen=True)


# --- minutes, decisions, actions ------------------------------------------------------------------


def _locked(meeting: Meeting) -> Meeting:
    return for_update(Meeting.objects.all()).select_related("engagement").get(pk=meeting.pk)


def meeting_minutes_save(*, actor: Membership, meeting: Meeting, minutes: str) -> Meeting:
    """Record the meeting's minutes (until they are closed)."""
    with transaction.atomic():
        meeting = _locked(meeting)
        policy.meeting_require(actor=actor, meeting=meeting, action="record")
        meeting.minutes = minutes.strip()
        meeting.save(update_fields=["minutes", "updated_at"])
        _audit(actor, "meeting.minutes_save", meeting, meeting.engagement_id, length=len(meeting.minutes))
    return meeting


def _kpi_code_check(engagement: Engagement, kpi_code: str, location: str = "kpi_code") -> str:
    kpi_code = kpi_code.strip()
    if kpi_code and kpi_code not in engagement_kpi_names(engagement=engagement):
        raise invalid(
            f"{kpi_code!r} is not a KPI of this engagement: pick one of its KPIs or leave it empty.",
            location=location,
            code="unknown_kpi",
        )
    return kpi_code


def decision_record(*, actor: Membership, meeting: Meeting, text: str, kpi_code: str = "") -> Decision:
    """Record a decision taken in the meeting."""
    text = text.strip()
    if not text:
        raise invalid("Write the decision.", location="text", code="required")
    with transaction.atomic():
        meeting = _locked(meeting)
        policy.meeting_require(actor=actor, meeting=meeting, action="record")
        decision = Decision.objects.create(
            meeting=meeting,
            text=text,
            kpi_code=_kpi_code_check(meeting.engagement, kpi_code),
            recorded_by=actor.user,
            recorded_by_org=actor.organisation,
        )
        _audit(actor, "meeting.decision_record", decision, meeting.engagement_id, text=text)
    return decision


def action_create(
    *,
    actor: Membership,
    engagement: Engagement,
    title: str,
    owner_id: int,
    due_date: date,
    now: datetime,
    kpi_code: str = "",
    meeting: Meeting | None = None,
) -> ActionItem:
    """Record an action owned by a member of either party; the owner is notified."""
    title = title.strip()
    errors = []
    if not title:
        errors.append(ErrorDetail("Say what is to be done.", "title", "required"))
    owner = engagement_people(engagement=engagement).filter(pk=owner_id).first()
    if owner is None:
        # At the API's field, in the words and code of a reassignment (action_owners).
        errors.append(ErrorDetail(FIRST_OWNER_RULE, OWNER_FIELD, NOT_A_MEMBER))
    if errors:
        raise PactboardError("The action cannot be recorded.", details=errors)
    owner = cast(Membership, owner)
    with transaction.atomic():
        if meeting is not None:
            meeting = _locked(meeting)
            if meeting.engagement_id != engagement.pk:
                raise invalid(
                    "The meeting belongs to another engagement.", location="meeting", code="another_engagement"
                )
            policy.meeting_require(actor=actor, meeting=meeting, action="record")
        else:
            policy.engagement_require(actor=actor, engagement=engagement, action="record")
        action = ActionItem.objects.create(
            engagement=engagement,
            meeting=meeting,
            title=title,
            owner=owner,
            due_date=due_date,
            kpi_code=_kpi_code_check(engagement, kpi_code),
            created_by=actor.user,
            created_by_org=actor.organisation,
        )
        _audit(actor, "action.create", action, engagement.pk, title=title, owner=owner.pk, due_date=due_date)
        notify(
            recipients=[owner],
            kind="action.assigned",
            cause_key=f"action:{action.pk}",
            title=f"Action for you: {title}",
            body=f"{actor.user.display_name} ({actor.organisation.name}) recorded an action for you"
            f" in {engagement.name}, due {due_date:%-d %b %Y}.",
            url=reverse("governance:action", args=[engagement.pk, action.pk]),
            engagement_id=engagement.pk,
            now=now,
            skip=actor,
        )
    return action


def action_status_set(*, actor: Membership, action: ActionItem, status: str, now: datetime) -> ActionItem:
    """Mark an action done, cancelled, or open again."""
    if status not in ActionItem.Status.values:
        raise invalid(
            f"Unknown status {status!r}: use open, done or cancelled.", location="status", code="invalid_choice"
        )
    with transaction.atomic():
        action = for_update(ActionItem.objects.all()).select_related("engagement").get(pk=action.pk)
        policy.action_require_update(actor=actor, action=action)
        before = action.status
        action.status = status
        action.closed_at = None if status == ActionItem.Status.OPEN else now
        action.save(update_fields=["status", "closed_at", "updated_at"])
        _audit(actor, "action.status_set", action, action.engagement_id, before=before, status=status)
    return action


def _attendee_memberships(meeting: Meeting) -> list[Membership]:
    return meeting_attendees(meeting=meeting)


def meeting_invite_send(*, actor: Membership, meeting: Meeting, now: datetime) -> int:
    """E-mail the invitation and its .ics to every attendee (again: calendars update the event); return how many."""
    with transaction.atomic():
        meeting = _locked(meeting)
        policy.meeting_require(actor=actor, meeting=meeting, action="invite")
        meeting.invitation_sequence += 1
        meeting.invited_at = now
        meeting.save(update_fields=["invitation_sequence", "invited_at", "updated_at"])
        attendees = _attendee_memberships(meeting)
        ics = meeting_ics(
            meeting=meeting,
            attendee_emails=[(m.user.email, m.user.display_name) for m in attendees],
            now=now,
            sequence=meeting.invitation_sequence,
        )
        local = meeting.starts_at.astimezone(zone(meeting.engagement.time_zone))
        rows = notify(
            recipients=attendees,
            kind="meeting.invitation",
            cause_key=f"meeting:{meeting.pk}:invitation:{meeting.invitation_sequence}",
            title=f"Invitation: {meeting.title}",
            body=f"{meeting.title} on {local:%A %-d %B %Y at %H:%M} ({meeting.engagement.time_zone}),"
            f" {meeting.duration_minutes} minutes. The agenda is generated from the data until the meeting starts.",
            url=reverse("governance:meeting", args=[meeting.engagement_id, meeting.pk]),
            engagement_id=meeting.engagement_id,
            now=now,
            attachments=[Attachment("invitation.ics", ics, "text/calendar; method=REQUEST")],
        )
        _audit(actor, "meeting.invite", meeting, meeting.engagement_id, sequence=meeting.invitation_sequence)
    return len(rows)


def minutes_text(*, meeting: Meeting) -> str:
    """The closed minutes as plain text: the notes, the decisions and the actions."""
    lines = [meeting.minutes or "(no notes)", "", "Decisions:"]
    decisions = list(meeting.decisions.order_by("created_at", "id"))
    lines += [f"- {d.text}" for d in decisions] or ["- none"]
    lines += ["", "Actions:"]
    actions = list(meeting.actions.select_related("owner__user", "owner__organisation").order_by("due_date", "id"))
    lines += [
        f"- {a.title} ({a.owner.user.display_name}, {a.owner.organisation.name}; due {a.due_date:%-d %b %Y})"
        for a in actions
    ] or ["- none"]
    return "\n".join(lines)


def meeting_minutes_close(*, actor: Membership, meeting: Meeting, now: datetime) -> Meeting:
    """Close the minutes (they no longer change) and e-mail them to the attendees."""
    with transaction.atomic():
        meeting = _locked(meeting)
        policy.meeting_require(actor=actor, meeting=meeting, action="close")
        if not meeting.has_started(now):
            raise PactboardError(
                "The meeting has not started yet: close its minutes after it is held.", kind="conflict"
            )
        meeting.minutes_closed_at, meeting.minutes_closed_by = now, actor.user
        meeting.save(update_fields=["minutes_closed_at", "minutes_closed_by", "updated_at"])
        _audit(actor, "meeting.minutes_close", meeting, meeting.engagement_id)
        notify(
            recipients=_attendee_memberships(meeting),
            kind="meeting.minutes",
            cause_key=f"meeting:{meeting.pk}:minutes",
            title=f"Minutes: {meeting.title}",
            body=minutes_text(meeting=meeting),
            url=reverse("governance:meeting", args=[meeting.engagement_id, meeting.pk]),
            engagement_id=meeting.engagement_id,
            now=now,
        )
    if meeting.agenda is None:
        meeting_agenda_freeze(meeting=meeting, now=now)
    return meeting


# --- feedback -------------------------------------------------------------------------------------


def mentions_resolve(*, engagement: Engagement, body: str) -> list[Membership]:
    """Members of either party named by ``@e-mail`` (or ``@name`` before the @ of their e-mail, if only one has it)."""
    people = list(engagement_people(engagement=engagement))
    found: dict[int, Membership] = {}
    for token in MENTION.findall(body):
        token = token.rstrip(".").lower()
        matches = [m for m in people if m.user.email == token] or [
            m for m in people if "@" not in token and m.user.email.split("@")[0] == token
        ]
        if len({m.user_id for m in matches}) != 1:
            what, code = (
                ("is not a member of either party", "not_a_member")
                if not matches
                else ("names several people", "ambiguous_mention")
            )
            raise invalid(
                f"@{token} {what}: write @ followed by the person's e-mail address.", location="body", code=code
            )
        for m in matches:
            found[m.pk] = m
    return list(found.values())


def _comment_add(*, actor: Membership, thread: FeedbackThread, body: str, now: datetime) -> FeedbackComment:
    body = body.strip()
    if not body:
        raise invalid("Write a comment.", location="body", code="required")
    mentioned = mentions_resolve(engagement=thread.engagement, body=body)
    comment = FeedbackComment.objects.create(
        thread=thread, author=actor.user, organisation=actor.organisation, body=body
    )
    comment.mentions.set(mentioned)
    _audit(actor, "feedback.comment_add", comment, thread.engagement_id, mentions=[m.pk for m in mentioned])
    notify(
        recipients=mentioned,
        kind="feedback.mention",
        cause_key=f"comment:{comment.pk}",
        title=f"{actor.user.display_name} mentioned you: {thread.title}",
        body=body,
        url=reverse("governance:thread", args=[thread.engagement_id, thread.pk]),
        engagement_id=thread.engagement_id,
        now=now,
        skip=actor,
    )
    return comment


def feedback_thread_start(
    *, actor: Membership, engagement: Engagement, kpi_code: str, period: Period, title: str, body: str, now: datetime
) -> FeedbackThread:
    """Open a thread on one KPI value (the KPI and the period) with its first comment."""
    title = title.strip() or f"{kpi_code} {period.label}"
    if not kpi_code.strip():
        raise invalid("Pick the KPI the feedback is about.", location="kpi_code", code="required")
    with transaction.atomic():
        policy.engagement_require(actor=actor, engagement=engagement, action="record")
        thread = FeedbackThread.objects.create(
            engagement=engagement,
            kpi_code=_kpi_code_check(engagement, kpi_code),
            period_kind=period.kind,
            period_start=period.start,
            title=title[:200],
            created_by=actor.user,
            created_by_org=actor.organisation,
        )
        _audit(actor, "feedback.thread_start", thread, engagement.pk, kpi_code=kpi_code, period=period.label)
        _comment_add(actor=actor, thread=thread, body=body, now=now)
    return thread


def feedback_comment_add(*, actor: Membership, thread: FeedbackThread, body: str, now: datetime) -> FeedbackComment:
    """Add a comment; the members it mentions are notified."""
    with transaction.atomic():
        thread = for_update(FeedbackThread.objects.all()).select_related("engagement").get(pk=thread.pk)
        policy.thread_require(actor=actor, thread=thread, action="comment")
        return _comment_add(actor=actor, thread=thread, body=body, now=now)


def feedback_thread_resolve(
    *, actor: Membership, thread: FeedbackThread, resolved: bool, now: datetime
) -> FeedbackThread:
    """Mark a thread resolved, or open it again."""
    with transaction.atomic():
        thread = for_update(FeedbackThread.objects.all()).select_related("engagement").get(pk=thread.pk)
        policy.thread_require(actor=actor, thread=thread, action="resolve" if resolved else "reopen")
        thread.resolved_at, thread.resolved_by = (now, actor.user) if resolved else (None, None)
        thread.save(update_fields=["resolved_at", "resolved_by", "updated_at"])
        _audit(actor, "feedback.resolve" if resolved else "feedback.reopen", thread, thread.engagement_id)
    return thread
