"""REST endpoints for reviews, actions, feedback threads and notifications (the same services as the pages)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from django.utils import timezone
from ninja import Schema
from ninja.responses import Status

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.api import ApiRouter, Mapped, mapped, paged
from pactboard.core.errors import invalid
from pactboard.core.periods import Period, PeriodKind
from pactboard.engagements.selectors import engagement_get
from pactboard.governance import alert_settings, notify, selectors, services
from pactboard.governance.action_owners import action_reassign
from pactboard.governance.alerts import KIND_WORDS
from pactboard.governance.models import ActionItem, Alert, Decision, FeedbackThread, Meeting, Notification
from pactboard.governance.relevance_api import router as relevance_router

router = ApiRouter(tags=["governance"])


class MeetingOut(Schema):
    id: int
    title: str
    starts_at: datetime
    duration_minutes: int
    location: str
    minutes: str
    minutes_closed_at: datetime | None
    agenda_frozen: bool


class MeetingDetailOut(MeetingOut):
    agenda: dict[str, Any]
    attendees: list[str]


class ActionOut(Schema):
    id: int
    engagement_id: int
    meeting_id: int | None
    title: str
    owner_email: str
    owner_organisation: str
    due_date: date
    status: str
    kpi_code: str


class ActionIn(Schema):
    title: str
    owner_membership_id: int
    due_date: date
    kpi_code: str = ""


class ActionStatusIn(Schema):
    status: str


class ActionReassignIn(Schema):
    owner_membership_id: int


class AlertSettingsOut(Schema):
    chronic_after: int
    grace_days: int
    review_notice_days: int


class AlertSettingsPatch(Schema):
    chronic_after: int | None = None
    grace_days: int | None = None
    review_notice_days: int | None = None


class ThreadOut(Schema):
    id: int
    kpi_code: str
    period: str
    title: str
    open: bool


class ThreadIn(Schema):
    kpi_code: str
    period: str
    title: str = ""
    body: str


class FeedbackCommentIn(Schema):
    body: str


class FeedbackCommentOut(Schema):
    id: int
    author_email: str
    organisation: str
    body: str
    created_at: datetime


class NotificationOut(Schema):
    id: int
    kind: str
    cause_key: str
    title: str
    url: str
    created_at: datetime
    read_at: datetime | None


class MinutesIn(Schema):
    minutes: str


class DecisionIn(Schema):
    text: str
    kpi_code: str = ""


class DecisionOut(Schema):
    id: int
    meeting_id: int
    text: str
    kpi_code: str
    recorded_by_email: str
    recorded_by_organisation: str
    created_at: datetime


class MeetingInvitesOut(Schema):
    sent: int


class ResolveIn(Schema):
    resolved: bool = True


class AlertOut(Schema):
    id: int
    cause_key: str
    kind: str
    kpi_code: str
    period: str
    raised_at: datetime
    cleared_at: datetime | None
    open: bool
    evidence: dict[str, Any]


def _meeting_out(m: Meeting) -> dict[str, Any]:
    return {
        "id": m.pk,
        "title": m.title,
        "starts_at": m.starts_at,
        "duration_minutes": m.duration_minutes,
        "location": m.location,
        "minutes": m.minutes,
        "minutes_closed_at": m.minutes_closed_at,
        "agenda_frozen": m.agenda is not None,
    }


def _action_out(a: ActionItem) -> dict[str, Any]:
    return {
        "id": a.pk,
        "engagement_id": a.engagement_id,
        "meeting_id": a.meeting_id,
        "title": a.title,
        "owner_email": a.owner.user.email,
        "owner_organisation": a.owner.organisation.name,
        "due_date": a.due_date,
        "status": a.status,
        "kpi_code": a.kpi_code,
    }


def _thread_out(t: FeedbackThread) -> dict[str, Any]:
    return {
        "id": t.pk,
        "kpi_code": t.kpi_code,
        "period": Period(cast(PeriodKind, t.period_kind), t.period_start).label,
        "title": t.title,
        "open": t.is_open,
    }


@router.get("/engagements/{engagement_id}/meetings", response=list[MeetingOut])
@paged
def list_meetings(
    request: AuthenticatedHttpRequest, engagement_id: int, since: datetime | None = None
) -> Mapped[Meeting, dict[str, Any]]:
    """The engagement's review meetings by start; ``since`` keeps those starting then or later."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    meetings = selectors.meeting_list(engagement=engagement)
    if since is not None:
        meetings = meetings.filter(starts_at__gte=since)
    return mapped(meetings, _meeting_out)


@router.post("/engagements/{engagement_id}/meetings/schedule", response={200: list[MeetingOut]})
def schedule_meetings(request: AuthenticatedHttpRequest, engagement_id: int) -> list[dict[str, Any]]:
    """Create the next reviews from the cadence (idempotent); returns the ones created now."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    created = services.meetings_schedule(engagement=engagement, actor=request.membership, now=timezone.now())
    return [_meeting_out(m) for m in created]


@router.get("/engagements/{engagement_id}/meetings/{meeting_id}", response=MeetingDetailOut)
def get_meeting(request: AuthenticatedHttpRequest, engagement_id: int, meeting_id: int) -> dict[str, Any]:
    """The meeting with its agenda: generated until it starts, then the frozen snapshot."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    meeting = selectors.meeting_get(membership=request.membership, engagement=engagement, meeting_id=meeting_id)
    agenda = services.meeting_agenda(meeting=meeting, now=timezone.now())
    return {
        **_meeting_out(meeting),
        "agenda": {**agenda.as_dict(), "frozen": agenda.frozen},
        "attendees": [m.user.email for m in selectors.meeting_attendees(meeting=meeting)],
    }


def _meeting(request: AuthenticatedHttpRequest, engagement_id: int, meeting_id: int) -> Meeting:
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    return selectors.meeting_get(membership=request.membership, engagement=engagement, meeting_id=meeting_id)


@router.put("/engagements/{engagement_id}/meetings/{meeting_id}/minutes", response=MeetingOut)
def save_minutes(
    request: AuthenticatedHttpRequest, engagement_id: int, meeting_id: int, payload: MinutesIn
) -> dict[str, Any]:
    """Replace the meeting's minutes (contributors and managers; 409 once the minutes are closed)."""
    meeting = _meeting(request, engagement_id, meeting_id)
    saved = services.meeting_minutes_save(actor=request.membership, meeting=meeting, minutes=payload.minutes)
    return _meeting_out(saved)


@router.post("/engagements/{engagement_id}/meetings/{meeting_id}/decisions", response={201: DecisionOut})
def record_decision(
    request: AuthenticatedHttpRequest, engagement_id: int, meeting_id: int, payload: DecisionIn
) -> Status:
    """Record a decision taken in the meeting, optionally about one of the engagement's KPIs."""
    meeting = _meeting(request, engagement_id, meeting_id)
    d: Decision = services.decision_record(
        actor=request.membership, meeting=meeting, text=payload.text, kpi_code=payload.kpi_code
    )
    return Status(
        201,
        {
            "id": d.pk,
            "meeting_id": d.meeting_id,
            "text": d.text,
            "kpi_code": d.kpi_code,
            "recorded_by_email": request.membership.user.email,
            "recorded_by_organisation": request.membership.organisation.name,
            "created_at": d.created_at,
        },
    )


@router.post("/engagements/{engagement_id}/meetings/{meeting_id}/close", response=MeetingOut)
def close_minutes(request: AuthenticatedHttpRequest, engagement_id: int, meeting_id: int) -> dict[str, Any]:
    """Close the minutes and e-mail them to the attendees (managers; 409 before the meeting starts)."""
    meeting = _meeting(request, engagement_id, meeting_id)
    closed = services.meeting_minutes_close(actor=request.membership, meeting=meeting, now=timezone.now())
    return _meeting_out(closed)


@router.post("/engagements/{engagement_id}/meetings/{meeting_id}/invite", response=MeetingInvitesOut)
def send_invitation(request: AuthenticatedHttpRequest, engagement_id: int, meeting_id: int) -> dict[str, int]:
    """E-mail the invitation (.ics) to every attendee again (managers); ``sent`` is how many were sent."""
    meeting = _meeting(request, engagement_id, meeting_id)
    return {"sent": services.meeting_invite_send(actor=request.membership, meeting=meeting, now=timezone.now())}


@router.post("/engagements/{engagement_id}/meetings/{meeting_id}/actions", response={201: ActionOut})
def create_meeting_action(
    request: AuthenticatedHttpRequest, engagement_id: int, meeting_id: int, payload: ActionIn
) -> Status:
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    meeting = selectors.meeting_get(membership=request.membership, engagement=engagement, meeting_id=meeting_id)
    action = services.action_create(
        actor=request.membership,
        engagement=engagement,
        meeting=meeting,
        title=payload.title,
        owner_id=payload.owner_membership_id,
        due_date=payload.due_date,
        kpi_code=payload.kpi_code,
        now=timezone.now(),
    )
    return Status(201, _action_out(action))


@router.patch("/engagements/{engagement_id}/actions/{action_id}", response=ActionOut)
def update_action(
    request: AuthenticatedHttpRequest, engagement_id: int, action_id: int, payload: ActionStatusIn
) -> dict[str, Any]:
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    action = selectors.action_get(membership=request.membership, engagement=engagement, action_id=action_id)
    services.action_status_set(actor=request.membership, action=action, status=payload.status, now=timezone.now())
    return _action_out(selectors.action_get(membership=request.membership, engagement=engagement, action_id=action_id))


@router.post("/engagements/{engagement_id}/actions/{action_id}/reassign", response=ActionOut)
def reassign_action(
    request: AuthenticatedHttpRequest, engagement_id: int, action_id: int, payload: ActionReassignIn
) -> dict[str, Any]:
    """Hand an open action to another member of either party, who is notified (contributors, managers, the owner).

    409 when the action is done or cancelled; 422 at ``owner_membership_id`` when that member is not of
    the client or the provider of this engagement.
    """
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    action = selectors.action_get(membership=request.membership, engagement=engagement, action_id=action_id)
    action_reassign(action=action, new_owner=payload.owner_membership_id, by=request.membership, now=timezone.now())
    return _action_out(selectors.action_get(membership=request.membership, engagement=engagement, action_id=action_id))


@router.get("/actions", response=list[ActionOut])
@paged
def list_my_actions(request: AuthenticatedHttpRequest) -> Mapped[ActionItem, dict[str, Any]]:
    """Every open action owned by the token's organisation, across engagements, soonest due first."""
    return mapped(selectors.actions_open_for_organisation(membership=request.membership), _action_out)


@router.get("/engagements/{engagement_id}/feedback", response=list[ThreadOut])
@paged
def list_threads(
    request: AuthenticatedHttpRequest, engagement_id: int, kpi_code: str | None = None
) -> Mapped[FeedbackThread, dict[str, Any]]:
    """Feedback threads, open ones first, newest first; ``kpi_code`` keeps one KPI's."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    return mapped(selectors.thread_list(engagement=engagement, kpi_code=kpi_code), _thread_out)


@router.post("/engagements/{engagement_id}/feedback", response={201: ThreadOut})
def start_thread(request: AuthenticatedHttpRequest, engagement_id: int, payload: ThreadIn) -> Status:
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    thread = services.feedback_thread_start(
        actor=request.membership,
        engagement=engagement,
        kpi_code=payload.kpi_code,
        period=Period.parse(payload.period),
        title=payload.title,
        body=payload.body,
        now=timezone.now(),
    )
    return Status(201, _thread_out(thread))


@router.post("/engagements/{engagement_id}/feedback/{thread_id}/comments", response={201: FeedbackCommentOut})
def add_comment(
    request: AuthenticatedHttpRequest, engagement_id: int, thread_id: int, payload: FeedbackCommentIn
) -> Status:
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    thread = selectors.thread_get(membership=request.membership, engagement=engagement, thread_id=thread_id)
    c = services.feedback_comment_add(actor=request.membership, thread=thread, body=payload.body, now=timezone.now())
    return Status(
        201,
        {
            "id": c.pk,
            "author_email": c.author.email,
            "organisation": c.organisation.name,
            "body": c.body,
            "created_at": c.created_at,
        },
    )


@router.post("/engagements/{engagement_id}/feedback/{thread_id}/resolve", response=ThreadOut)
def resolve_thread(
    request: AuthenticatedHttpRequest, engagement_id: int, thread_id: int, payload: ResolveIn
) -> dict[str, Any]:
    """Mark the thread resolved, or with ``{"resolved": false}`` open it again (contributors and managers)."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    thread = selectors.thread_get(membership=request.membership, engagement=engagement, thread_id=thread_id)
    done = services.feedback_thread_resolve(
        actor=request.membership, thread=thread, resolved=payload.resolved, now=timezone.now()
    )
    return _thread_out(done)


def _alert_out(a: Alert) -> dict[str, Any]:
    return {
        "id": a.pk,
        "cause_key": a.cause_key,
        "kind": a.kind,
        "kpi_code": a.kpi_code,
        "period": a.period,
        "raised_at": a.raised_at,
        "cleared_at": a.cleared_at,
        "open": a.is_open,
        "evidence": a.evidence,
    }


@router.get("/engagements/{engagement_id}/alerts", response=list[AlertOut])
@paged
def list_alerts(
    request: AuthenticatedHttpRequest, engagement_id: int, open: bool | None = None, kind: str | None = None
) -> Mapped[Alert, dict[str, Any]]:
    """The engagement's alerts, newest raised first; ``open`` keeps open (true) or cleared (false) ones."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    if kind and kind not in KIND_WORDS:
        raise invalid(
            f"Unknown alert kind {kind!r}: use one of {', '.join(KIND_WORDS)}.", location="kind", code="invalid_choice"
        )
    return mapped(selectors.alert_list(engagement=engagement, is_open=open, kind=kind or None), _alert_out)


@router.get("/engagements/{engagement_id}/alert-settings", response=AlertSettingsOut)
def get_alert_settings(request: AuthenticatedHttpRequest, engagement_id: int) -> dict[str, int]:
    """The engagement's alert thresholds as the scan uses them (the defaults until someone changes them)."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    return alert_settings.alert_settings_values(engagement=engagement)


@router.patch("/engagements/{engagement_id}/alert-settings", response=AlertSettingsOut)
def update_alert_settings(
    request: AuthenticatedHttpRequest, engagement_id: int, payload: AlertSettingsPatch
) -> dict[str, int]:
    """Change the thresholds given (the client's administrators and managers); the others stay as they are.

    Bounds: ``chronic_after`` 1-24 missed periods, ``grace_days`` 0-90, ``review_notice_days`` 1-30;
    a value out of bounds is a 422 located at its field.
    """
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    alert_settings.alert_settings_update(actor=request.membership, engagement=engagement, **payload.dict())
    return alert_settings.alert_settings_values(engagement=engagement)


def _note_out(n: Notification) -> dict[str, Any]:
    return {
        "id": n.pk,
        "kind": n.kind,
        "cause_key": n.cause_key,
        "title": n.title,
        "url": n.url,
        "created_at": n.created_at,
        "read_at": n.read_at,
    }


@router.get("/notifications", response=list[NotificationOut])
@paged
def list_notifications(
    request: AuthenticatedHttpRequest, unread: bool = False, kind: str | None = None
) -> Mapped[Notification, dict[str, Any]]:
    """The token member's notifications, newest first; ``unread`` keeps unread ones, ``kind`` one kind."""
    rows = selectors.notification_list(membership=request.membership, unread_only=unread)
    if kind:
        rows = rows.filter(kind=kind)
    return mapped(rows.order_by("-created_at", "-pk"), _note_out)


@router.post("/notifications/{notification_id}/read", response=NotificationOut)
def read_notification(request: AuthenticatedHttpRequest, notification_id: int) -> dict[str, Any]:
    note = selectors.notification_get(membership=request.membership, notification_id=notification_id)
    return _note_out(notify.notification_mark_read(actor=request.membership, notification=note, now=timezone.now()))


# KPI relevance reviews: their endpoints live beside their service (pactboard/governance/relevance_api.py).
router.add_router("", relevance_router)
# Collaboration (F18): strategy notes, knowledge base, wins feed, in their own module.
router.add_router("", "pactboard.governance.collaboration_api.router")
