"""Actions opened by a rule of a room above governance (a final settlement's critical miss), once per cause.

A person records an action with ``services.action_create``; a rule opens one here, under a
``cause_key`` that names what asked for it ("settlement:7:rule:qa-credit"). ``ActionItem`` keeps
``(engagement, cause_key)`` unique, like ``Notification`` keeps ``(recipient, kind, cause_key)``,
so a retried or repeated rule finds the action it opened instead of opening another.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.urls import reverse

from pactboard.accounts.models import Membership
from pactboard.audit.services import audit_record
from pactboard.core.errors import invalid
from pactboard.engagements.models import Engagement
from pactboard.engagements.selectors import engagement_people
from pactboard.governance import policy
from pactboard.governance.models import ActionItem
from pactboard.governance.notify import notify


def action_open_for_cause(
    *,
    actor: Membership,
    engagement: Engagement,
    cause_key: str,
    title: str,
    body: str,
    owner: Membership,
    due_date: date,
    now: datetime,
    kpi_code: str = "",
) -> tuple[ActionItem, bool]:
    """Open the action ``cause_key`` asks for, unless it is open already: ``(action, created)``.

    ``actor`` is the person whose step set the rule off (recorded as the action's author); the
    owner is notified even when that is the same person, since the rule wrote the action, not them.
    Runs in the caller's transaction when there is one, so the cause and its action commit together.
    """
    cause_key = cause_key.strip()
    title = title.strip()[:300]
    if not cause_key:
        raise invalid("An action opened by a rule needs the key of its cause.", location="cause_key", code="required")
    if not title:
        raise invalid("Say what is to be done.", location="title", code="required")
    with transaction.atomic():
        policy.engagement_require(actor=actor, engagement=engagement, action="record")
        if not engagement_people(engagement=engagement).filter(pk=owner.pk).exists():
            raise invalid(
                "The action cannot be opened: its owner must be a member of the client or the provider.",
                location="owner",
                code="not_a_member",
            )
        existing = ActionItem.objects.filter(engagement=engagement, cause_key=cause_key).first()
        if existing is not None:
            return existing, False
        action = ActionItem.objects.create(
            engagement=engagement,
            title=title,
            owner=owner,
            due_date=due_date,
            kpi_code=kpi_code,
            cause_key=cause_key,
            created_by=actor.user,
            created_by_org=actor.organisation,
        )
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="action.open_for_cause",
            obj=action,
            engagement_id=engagement.pk,
            after={"title": title, "owner": owner.pk, "due_date": due_date, "cause_key": cause_key},
        )
        notify(
            recipients=[owner],
            kind="action.assigned",
            cause_key=f"action:{action.pk}",
            title=f"Action for you: {title}",
            body=body,
            url=reverse("governance:action", args=[engagement.pk, action.pk]),
            engagement_id=engagement.pk,
            now=now,
        )
    return action, True
