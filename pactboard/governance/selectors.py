"""Reads for governance: meetings, actions, feedback threads, notifications; each starts from the actor's scope."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Count, Q, QuerySet

from pactboard.accounts.models import Membership
from pactboard.core.errors import not_found
from pactboard.core.periods import zone
from pactboard.engagements.models import Engagement
from pactboard.governance.agenda import Agenda, agenda_build
from pactboard.governance.models import (
    ActionItem,
    Alert,
    Decision,
    FeedbackComment,
    FeedbackThread,
    Meeting,
    Notification,
)


def meeting_list(*, engagement: Engagement) -> QuerySet[Meeting]:
    return (
        Meeting.objects.filter(engagement=engagement)
        .annotate(open_actions=Count("actions", filter=Q(actions__status=ActionItem.Status.OPEN)))
        .order_by("starts_at")
    )


def meeting_get(*, membership: Membership | None, engagement: Engagement, meeting_id: int) -> Meeting:
    """A meeting of the engagement the actor may see, or not found."""
    meeting = (
        Meeting.objects.visible_to(membership)
        .filter(pk=meeting_id, engagement=engagement)
        .select_related("engagement__client", "engagement__provider", "minutes_closed_by")
        .first()
    )
    if meeting is None:
        raise not_found("No such meeting.")
    return meeting


def meeting_neighbours(*, meeting: Meeting) -> tuple[Meeting | None, Meeting | None]:
    """The meetings just before and just after this one."""
    siblings = Meeting.objects.filter(engagement_id=meeting.engagement_id).exclude(pk=meeting.pk)
    previous = siblings.filter(starts_at__lt=meeting.starts_at).order_by("-starts_at").first()
    following = siblings.filter(starts_at__gte=meeting.starts_at).order_by("starts_at").first()
    return previous, following


def meeting_next(*, engagement: Engagement, now: datetime) -> Meeting | None:
    return Meeting.objects.filter(engagement=engagement, starts_at__gt=now).order_by("starts_at").first()


def meeting_agenda_live(*, meeting: Meeting, now: datetime) -> Agenda:
    """The agenda generated from the data now (not frozen)."""
    previous, following = meeting_neighbours(meeting=meeting)
    return agenda_build(meeting=meeting, now=now, previous=previous, following=following)


def meeting_attendees(*, meeting: Meeting) -> list[Membership]:
    return list(meeting.attendees.select_related("user", "organisation").order_by("organisation__name", "user__email"))


def meeting_decisions(*, meeting: Meeting) -> QuerySet[Decision]:
    return meeting.decisions.select_related("recorded_by", "recorded_by_org").order_by("created_at", "id")


def meeting_actions(*, meeting: Meeting) -> QuerySet[ActionItem]:
    return meeting.actions.select_related("owner__user", "owner__organisation").order_by("due_date", "id")


def action_get(*, membership: Membership | None, engagement: Engagement, action_id: int) -> ActionItem:
    action = (
        ActionItem.objects.visible_to(membership)
        .filter(pk=action_id, engagement=engagement)
        .select_related("engagement", "owner__user", "owner__organisation", "meeting")
        .first()
    )
    if action is None:
        raise not_found("No such action.")
    return action


def actions_open_for_organisation(*, membership: Membership) -> QuerySet[ActionItem]:
    """Every open action owned by a member of the actor's organisation, across the engagements it may see."""
    return (
        ActionItem.objects.visible_to(membership)
        .open()
        .filter(owner__organisation_id=membership.organisation_id)
        .select_related("engagement", "owner__user", "owner__organisation", "meeting")
        .order_by("due_date", "id")
    )


def local_today(*, engagement: Engagement, now: datetime) -> date:
    return now.astimezone(zone(engagement.time_zone)).date()


def thread_list(*, engagement: Engagement, kpi_code: str | None = None) -> QuerySet[FeedbackThread]:
    qs = FeedbackThread.objects.filter(engagement=engagement)
    if kpi_code is not None:
        qs = qs.filter(kpi_code=kpi_code)
    return (
        qs.select_related("created_by", "created_by_org")
        .annotate(comment_count=Count("comments"))
        .order_by("resolved_at", "-created_at", "-id")
    )


def thread_get(*, membership: Membership | None, engagement: Engagement, thread_id: int) -> FeedbackThread:
    thread = (
        FeedbackThread.objects.visible_to(membership)
        .filter(pk=thread_id, engagement=engagement)
        .select_related("engagement__client", "engagement__provider", "resolved_by")
        .first()
    )
    if thread is None:
        raise not_found("No such feedback thread.")
    return thread


def thread_comments(*, thread: FeedbackThread) -> QuerySet[FeedbackComment]:
    return thread.comments.select_related("author", "organisation").order_by("created_at", "id")


def feedback_open_periods(*, engagement: Engagement) -> dict[str, set[date]]:
    """For each KPI code, the period starts that have an open thread (markers on tiles and charts): one query."""
    out: dict[str, set[date]] = {}
    rows = FeedbackThread.objects.filter(engagement=engagement, resolved_at__isnull=True).values_list(
        "kpi_code", "period_start"
    )
    for code, start in rows:
        out.setdefault(code, set()).add(start)
    return out


def notification_list(*, membership: Membership | None, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.for_recipient(membership)
    return qs.unread() if unread_only else qs


def notification_unread_count(*, membership: Membership | None) -> int:
    return Notification.objects.for_recipient(membership).unread().count()


def notification_get(*, membership: Membership | None, notification_id: int) -> Notification:
    found = Notification.objects.for_recipient(membership).filter(pk=notification_id).first()
    if found is None:
        raise not_found("No such notification.")
    return found


def alert_list(*, engagement: Engagement, is_open: bool | None = None, kind: str | None = None) -> QuerySet[Alert]:
    """The engagement's alerts, newest raised first; ``is_open`` keeps open (or cleared) ones, ``kind`` one kind."""
    rows = Alert.objects.filter(engagement=engagement)
    if is_open is not None:
        rows = rows.filter(cleared_at__isnull=is_open)
    if kind:
        rows = rows.filter(kind=kind)
    return rows.order_by("-raised_at", "-pk")


def alerts_chronic(*, engagement: Engagement) -> dict[str, str]:
    """KPI code -> first period of its open chronic run, for flags on tiles and KPI pages: one query."""
    rows = Alert.objects.filter(engagement=engagement, kind="chronic", cleared_at__isnull=True).values_list(
        "kpi_code", "period"
    )
    return dict(rows)
