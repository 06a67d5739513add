"""Governance pages: reviews (agenda, minutes, decisions, actions), actions, feedback threads, notifications."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.errors import PactboardError
from pactboard.core.forms import form_add_domain_error
from pactboard.core.htmx import render_page
from pactboard.core.views import membership_required
from pactboard.engagements.models import Engagement
from pactboard.engagements.selectors import engagement_get, engagement_people
from pactboard.governance import notify, policy, selectors, services
from pactboard.governance.action_owners import OWNER_FIELD
from pactboard.governance.action_owners import action_reassign as action_reassign_service
from pactboard.governance.forms import (
    ActionForm,
    ActionReassignForm,
    CommentForm,
    DecisionForm,
    MinutesForm,
    ThreadForm,
)
from pactboard.governance.invitations import meeting_ics
from pactboard.governance.models import ActionItem, Meeting
from pactboard.kpis.selectors import engagement_kpi_names


def _engagement(request: AuthenticatedHttpRequest, pk: int) -> Engagement:
    return engagement_get(membership=request.membership, engagement_id=pk)


def _meeting(request: AuthenticatedHttpRequest, pk: int, meeting_id: int) -> Meeting:
    engagement = _engagement(request, pk)
    return selectors.meeting_get(membership=request.membership, engagement=engagement, meeting_id=meeting_id)


def _refused(request: HttpRequest, exc: PactboardError) -> None:
    """Not-found and forbidden go up as 404/403; a conflict or bad input is shown on the page."""
    if exc.kind in {"not_found", "forbidden"}:
        raise exc
    messages.error(request, str(exc))


# --- reviews --------------------------------------------------------------------------------------


@membership_required
def reviews(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    now = timezone.now()
    meetings = list(selectors.meeting_list(engagement=engagement))
    return render_page(
        request,
        page="governance/reviews.html",
        partial="governance/partials/_reviews.html",
        context={
            "engagement": engagement,
            "upcoming": [m for m in meetings if m.starts_at > now],
            "past": [m for m in reversed(meetings) if m.starts_at <= now],
            "can_schedule": policy.engagement_may(
                actor=request.membership, engagement=engagement, action="schedule"
            ).allowed,
        },
    )


@membership_required
@require_POST
def reviews_schedule(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    created = services.meetings_schedule(engagement=engagement, actor=request.membership, now=timezone.now())
    if created:
        messages.success(request, f"Scheduled {len(created)} review{'s' if len(created) != 1 else ''}.")
    else:
        messages.info(request, "The next reviews were already scheduled.")
    return redirect("governance:reviews", engagement.pk)


def _meeting_context(request: AuthenticatedHttpRequest, meeting: Meeting, **forms: Any) -> dict[str, Any]:
    engagement = meeting.engagement
    now = timezone.now()
    people = list(engagement_people(engagement=engagement))
    kpi_names = engagement_kpi_names(engagement=engagement)
    return {
        "engagement": engagement,
        "meeting": meeting,
        "agenda": services.meeting_agenda(meeting=meeting, now=now),
        "attendees": selectors.meeting_attendees(meeting=meeting),
        "decisions": list(selectors.meeting_decisions(meeting=meeting)),
        "actions": list(selectors.meeting_actions(meeting=meeting)),
        "started": meeting.has_started(now),
        "minutes_form": forms.get("minutes_form") or MinutesForm(initial={"minutes": meeting.minutes}),
        "decision_form": forms.get("decision_form") or DecisionForm(kpi_names=kpi_names),
        "action_form": forms.get("action_form") or ActionForm(people=people, kpi_names=kpi_names),
        **policy.meeting_permissions(actor=request.membership, meeting=meeting),
    }


@membership_required
def meeting_detail(request: AuthenticatedHttpRequest, pk: int, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, pk, meeting_id)
    return render_page(
        request,
        page="governance/meeting.html",
        partial="governance/partials/_meeting.html",
        context=_meeting_context(request, meeting),
    )


def _meeting_form_failed(request: AuthenticatedHttpRequest, meeting: Meeting, **forms: Any) -> HttpResponse:
    return render(request, "governance/meeting.html", _meeting_context(request, meeting, **forms), status=422)


@membership_required
@require_POST
def meeting_minutes(request: AuthenticatedHttpRequest, pk: int, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, pk, meeting_id)
    form = MinutesForm(request.POST)
    if form.is_valid():
        try:
            services.meeting_minutes_save(
                actor=request.membership, meeting=meeting, minutes=form.cleaned_data["minutes"]
            )
        except PactboardError as exc:
            _refused(request, exc)
        else:
            messages.success(request, "Minutes saved.")
    return redirect("governance:meeting", pk, meeting.pk)


@membership_required
@require_POST
def meeting_decision(request: AuthenticatedHttpRequest, pk: int, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, pk, meeting_id)
    form = DecisionForm(request.POST, kpi_names=engagement_kpi_names(engagement=meeting.engagement))
    if form.is_valid():
        try:
            services.decision_record(actor=request.membership, meeting=meeting, **form.cleaned_data)
        except PactboardError as exc:
            if exc.kind in {"not_found", "forbidden"}:
                raise
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Decision recorded.")
            return redirect("governance:meeting", pk, meeting.pk)
    return _meeting_form_failed(request, meeting, decision_form=form)


@membership_required
@require_POST
def meeting_action(request: AuthenticatedHttpRequest, pk: int, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, pk, meeting_id)
    engagement = meeting.engagement
    form = ActionForm(
        request.POST,
        people=list(engagement_people(engagement=engagement)),
        kpi_names=engagement_kpi_names(engagement=engagement),
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            action = services.action_create(
                actor=request.membership,
                engagement=engagement,
                meeting=meeting,
                title=data["title"],
                owner_id=data["owner"],
                due_date=data["due_date"],
                kpi_code=data["kpi_code"],
                now=timezone.now(),
            )
        except PactboardError as exc:
            if exc.kind in {"not_found", "forbidden"}:
                raise
            form_add_domain_error(form, exc, fields={OWNER_FIELD: "owner"})
        else:
            messages.success(request, f"Action recorded for {action.owner.user.display_name}.")
            return redirect("governance:meeting", pk, meeting.pk)
    return _meeting_form_failed(request, meeting, action_form=form)


@membership_required
@require_POST
def meeting_invite(request: AuthenticatedHttpRequest, pk: int, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, pk, meeting_id)
    try:
        sent = services.meeting_invite_send(actor=request.membership, meeting=meeting, now=timezone.now())
    except PactboardError as exc:
        _refused(request, exc)
    else:
        messages.success(request, f"Invitation sent to {sent} attendee{'s' if sent != 1 else ''}.")
    return redirect("governance:meeting", pk, meeting.pk)


@membership_required
@require_POST
def meeting_close(request: AuthenticatedHttpRequest, pk: int, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, pk, meeting_id)
    try:
        services.meeting_minutes_close(actor=request.membership, meeting=meeting, now=timezone.now())
    except PactboardError as exc:
        _refused(request, exc)
    else:
        messages.success(request, "Minutes closed and sent to the attendees.")
    return redirect("governance:meeting", pk, meeting.pk)


@membership_required
def meeting_ics_download(request: AuthenticatedHttpRequest, pk: int, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, pk, meeting_id)
    attendees = selectors.meeting_attendees(meeting=meeting)
    body = meeting_ics(
        meeting=meeting,
        attendee_emails=[(m.user.email, m.user.display_name) for m in attendees],
        now=timezone.now(),
        sequence=meeting.invitation_sequence,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="review-{meeting.pk}.ics"'
    return response


# --- actions --------------------------------------------------------------------------------------


@membership_required
@require_http_methods(["GET", "POST"])
def action_detail(request: AuthenticatedHttpRequest, pk: int, action_id: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    action = selectors.action_get(membership=request.membership, engagement=engagement, action_id=action_id)
    if request.method == "POST":
        try:
            services.action_status_set(
                actor=request.membership, action=action, status=request.POST.get("status", ""), now=timezone.now()
            )
        except PactboardError as exc:
            _refused(request, exc)
        else:
            messages.success(request, "Action updated.")
        return redirect("governance:action", engagement.pk, action.pk)
    return _action_page(request, engagement, action)


def _action_page(
    request: AuthenticatedHttpRequest,
    engagement: Engagement,
    action: ActionItem,
    reassign_form: ActionReassignForm | None = None,
    status: int = 200,
) -> HttpResponse:
    can_reassign = policy.action_may_reassign(actor=request.membership, action=action).allowed
    if can_reassign and reassign_form is None:
        reassign_form = ActionReassignForm(people=list(engagement_people(engagement=engagement)), owner=action.owner)
    return render(
        request,
        "governance/action.html",
        {
            "engagement": engagement,
            "action": action,
            "today": selectors.local_today(engagement=engagement, now=timezone.now()),
            "can_update": policy.action_may_update(actor=request.membership, action=action).allowed,
            "can_reassign": can_reassign,
            "reassign_form": reassign_form,
            "statuses": ActionItem.Status.choices,
        },
        status=status,
    )


@membership_required
@require_POST
def action_reassign(request: AuthenticatedHttpRequest, pk: int, action_id: int) -> HttpResponse:
    """Hand the open action to another member of either party (contributors, managers, the owner)."""
    engagement = _engagement(request, pk)
    action = selectors.action_get(membership=request.membership, engagement=engagement, action_id=action_id)
    form = ActionReassignForm(request.POST, people=list(engagement_people(engagement=engagement)), owner=action.owner)
    if form.is_valid():
        try:
            action = action_reassign_service(
                action=action,
                new_owner=form.cleaned_data["owner_membership_id"],
                by=request.membership,
                now=timezone.now(),
            )
        except PactboardError as exc:
            if exc.kind in {"not_found", "forbidden"}:
                raise
            if exc.kind == "conflict":
                messages.error(request, str(exc))
                return redirect("governance:action", engagement.pk, action.pk)
            form_add_domain_error(form, exc)
        else:
            messages.success(request, f"Action handed to {action.owner.user.display_name}, who is told.")
            return redirect("governance:action", engagement.pk, action.pk)
    return _action_page(request, engagement, action, reassign_form=form, status=422)


@membership_required
def actions(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = list(selectors.actions_open_for_organisation(membership=request.membership))
    now = timezone.now()
    items = [(a, a.due_date < selectors.local_today(engagement=a.engagement, now=now)) for a in rows]
    return render_page(
        request,
        page="governance/actions.html",
        partial="governance/partials/_actions.html",
        context={"items": items, "organisation": request.membership.organisation},
    )


# --- feedback -------------------------------------------------------------------------------------


@membership_required
@require_POST
def thread_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    form = ThreadForm(request.POST, kpi_names=engagement_kpi_names(engagement=engagement))
    if form.is_valid():
        try:
            thread = services.feedback_thread_start(
                actor=request.membership, engagement=engagement, now=timezone.now(), **form.cleaned_data
            )
        except PactboardError as exc:
            if exc.kind in {"not_found", "forbidden"}:
                raise
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Feedback thread opened.")
            return redirect("governance:thread", engagement.pk, thread.pk)
    return render(request, "governance/thread_form.html", {"engagement": engagement, "form": form}, status=422)


@membership_required
@require_http_methods(["GET", "POST"])
def thread_detail(request: AuthenticatedHttpRequest, pk: int, thread_id: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    thread = selectors.thread_get(membership=request.membership, engagement=engagement, thread_id=thread_id)
    form = CommentForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.feedback_comment_add(
                    actor=request.membership, thread=thread, body=form.cleaned_data["body"], now=timezone.now()
                )
            except PactboardError as exc:
                if exc.kind in {"not_found", "forbidden"}:
                    raise
                form_add_domain_error(form, exc)
            else:
                return redirect("governance:thread", engagement.pk, thread.pk)
    context = {
        "engagement": engagement,
        "thread": thread,
        "comments": list(selectors.thread_comments(thread=thread)),
        "form": form,
        **policy.thread_permissions(actor=request.membership, thread=thread),
    }
    return render_page(
        request,
        page="governance/thread.html",
        partial="governance/partials/_thread.html",
        context=context,
        status=status,
    )


@membership_required
@require_POST
def thread_resolve(request: AuthenticatedHttpRequest, pk: int, thread_id: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    thread = selectors.thread_get(membership=request.membership, engagement=engagement, thread_id=thread_id)
    resolved = request.POST.get("resolved", "1") == "1"
    try:
        services.feedback_thread_resolve(actor=request.membership, thread=thread, resolved=resolved, now=timezone.now())
    except PactboardError as exc:
        _refused(request, exc)
    return redirect("governance:thread", engagement.pk, thread.pk)


# --- notifications --------------------------------------------------------------------------------


@membership_required
def notifications(request: AuthenticatedHttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    rows = list(selectors.notification_list(membership=request.membership, unread_only=unread_only)[:200])
    return render_page(
        request,
        page="governance/notifications.html",
        partial="governance/partials/_notifications.html",
        context={"notifications": rows, "unread_only": unread_only},
    )


@membership_required
def notifications_badge(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The header's unread count, loaded after the page (and polled) so no page pays a query for it."""
    count = selectors.notification_unread_count(membership=request.membership)
    return render(request, "governance/partials/_unread_badge.html", {"count": count})


@membership_required
def notification_open(request: AuthenticatedHttpRequest, notification_id: int) -> HttpResponse:
    """Follow a notification to its cause, marking it read on the way."""
    notification = selectors.notification_get(membership=request.membership, notification_id=notification_id)
    notify.notification_mark_read(actor=request.membership, notification=notification, now=timezone.now())
    if not url_has_allowed_host_and_scheme(notification.url, allowed_hosts=None):
        return redirect("governance:notifications")
    return redirect(notification.url)


@membership_required
@require_POST
def notification_read(request: AuthenticatedHttpRequest, notification_id: int) -> HttpResponse:
    notification = selectors.notification_get(membership=request.membership, notification_id=notification_id)
    notify.notification_mark_read(actor=request.membership, notification=notification, now=timezone.now())
    return redirect("governance:notifications")


@membership_required
@require_POST
def notifications_read_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    count = notify.notifications_mark_all_read(actor=request.membership, now=timezone.now())
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return redirect("governance:notifications")


# Mail clients send the one-click unsubscribe (RFC 8058) as a POST without a CSRF token; the signed
# token in the URL is what authorises it, so the page needs no log-in either.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            notify.email_unsubscribe(token=token)
        except PactboardError as exc:
            return render(request, "governance/unsubscribe.html", {"error": exc.message}, status=400)
        return render(request, "governance/unsubscribe.html", {"done": True})
    return render(request, "governance/unsubscribe.html", {"token": token})
