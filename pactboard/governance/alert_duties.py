"""Alerts owed by people rather than by a KPI: a signature, an overdue action, a review about to start.

``duty_causes`` answers which of these causes hold for an engagement now, each with the people who
owe it (and only them); ``alerts.alerts_scan`` reconciles them with the KPI causes, under the same
once-per-cause rule (docs/governance.md, "Alerts"):

- ``awaiting_signature`` ``signature:VERSION:PARTY``: a proposed version the client or the provider has
  not signed -> that party's administrators and managers (those who may sign). Gone once the party
  signs, or the version is agreed, withdrawn or superseded.
- ``action_overdue`` ``overdue:ACTION:DUE-DATE``: an open action whose due date is before today in the
  engagement's time zone -> its owner and the member who recorded it. Gone once done or cancelled,
  or when the due date moves (a moved date that is missed again is a new cause).
- ``review_soon`` ``review:MEETING:STARTS-AT``: a meeting that starts within ``review_notice_days``
  -> its attendees. Gone once it has started (a rescheduled meeting is a new cause).

A fixed handful of queries per engagement, whatever the number of versions, actions or meetings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.urls import reverse

from pactboard.accounts.models import Membership, Role
from pactboard.core.periods import local_date, zone
from pactboard.engagements.models import Engagement
from pactboard.governance.models import ActionItem, Meeting
from pactboard.kpis.models import AgreementVersion

DUTY_KINDS = ("awaiting_signature", "action_overdue", "review_soon")
REVIEW_NOTICE_DAYS = 3  # default of AlertSettings.review_notice_days


@dataclass(frozen=True, kw_only=True)
class DutyCause:
    kind: str
    key: str
    title: str
    url: str
    recipients: tuple[Membership, ...]
    period: str = ""
    kpi_code: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)


def _in_days(days: int) -> str:
    if days <= 0:
        return "today"
    return "tomorrow" if days == 1 else f"in {days} days"


def duty_causes(*, engagement: Engagement, now: datetime, notice_days: int = REVIEW_NOTICE_DAYS) -> list[DutyCause]:
    """Every signature, overdue action and imminent review the engagement owes now, with who owes it."""
    today = local_date(now, engagement.time_zone)
    tz = zone(engagement.time_zone)
    parties = {engagement.client_id: "client", engagement.provider_id: "provider"}
    people = list(Membership.objects.filter(organisation_id__in=list(parties)).select_related("user"))
    by_user_org = {(m.user_id, m.organisation_id): m for m in people}
    signers = {
        org: tuple(m for m in people if m.organisation_id == org and m.role in (Role.ADMIN, Role.MANAGER))
        for org in parties
    }
    causes: list[DutyCause] = []

    proposed = AgreementVersion.objects.filter(
        engagement=engagement, status=AgreementVersion.Status.PROPOSED
    ).prefetch_related("signatures")
    for version in proposed.order_by("number"):
        signed = {s.organisation_id for s in version.signatures.all()}
        for org, party in parties.items():
            if org in signed or not signers[org]:
                continue
            causes.append(
                DutyCause(
                    kind="awaiting_signature",
                    key=f"signature:{version.number}:{party}",
                    title=f"Agreement version {version.number} awaits your signature",
                    url=reverse("kpis:version", args=[engagement.pk, version.pk]),
                    recipients=signers[org],
                    evidence={"version": version.number, "party": party, "effective_from": str(version.effective_from)},
                )
            )

    overdue = ActionItem.objects.filter(
        engagement=engagement, status=ActionItem.Status.OPEN, due_date__lt=today
    ).select_related("owner")
    for action in overdue.order_by("due_date", "pk"):
        recorder = by_user_org.get((action.created_by_id, action.created_by_org_id))
        recipients = {action.owner.pk: action.owner}
        if recorder is not None:
            recipients.setdefault(recorder.pk, recorder)
        causes.append(
            DutyCause(
                kind="action_overdue",
                key=f"overdue:{action.pk}:{action.due_date.isoformat()}",
                title=f"Action overdue since {action.due_date:%-d %b %Y}: {action.title}",
                url=reverse("governance:action", args=[engagement.pk, action.pk]),
                recipients=tuple(recipients.values()),
                period=action.due_date.isoformat(),
                kpi_code=action.kpi_code,
                evidence={"action": action.pk, "owner": action.owner.pk, "due_date": action.due_date.isoformat()},
            )
        )

    soon = Meeting.objects.filter(
        engagement=engagement, starts_at__gt=now, starts_at__lte=now + timedelta(days=notice_days)
    ).prefetch_related("attendees")
    for meeting in soon.order_by("starts_at", "pk"):
        attendees = tuple(meeting.attendees.all())
        if not attendees:
            continue
        local = meeting.starts_at.astimezone(tz)
        causes.append(
            DutyCause(
                kind="review_soon",
                key=f"review:{meeting.pk}:{meeting.starts_at.astimezone(UTC):%Y%m%dT%H%MZ}",
                title=(
                    f"Review {_in_days((local.date() - today).days)}: {meeting.title}, "
                    f"{local:%a %-d %b %Y %H:%M} ({engagement.time_zone})"
                ),
                url=reverse("governance:meeting", args=[engagement.pk, meeting.pk]),
                recipients=attendees,
                period=local.date().isoformat(),
                evidence={"meeting": meeting.pk, "starts_at": meeting.starts_at.isoformat()},
            )
        )
    return causes
