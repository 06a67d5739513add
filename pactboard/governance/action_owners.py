"""Handing an open action to another owner (docs/governance.md, "Reassigning an action").

An open action is work someone owes; when that person leaves or the work moves, a contributor or
manager of either party (or the owner) hands it to another member of a party of the engagement.
The change is audited as ``action.owner_transfer`` with the owner before and after (as the
hand-over of closed actions on a member's removal writes it, ``membership_holds.py``) and the new
owner is told (``action.assigned``). A member who still owns open actions cannot be removed until
each is reassigned or closed (``accounts.ports``).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.urls import reverse

from pactboard.accounts.models import Membership
from pactboard.audit.services import audit_record
from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.core.formatting import date_text
from pactboard.core.locks import for_update
from pactboard.engagements.selectors import engagement_people
from pactboard.governance import policy
from pactboard.governance.models import ActionItem
from pactboard.governance.notify import notify

OWNER_FIELD = "owner_membership_id"
# Who may own an action, as the API's 422 and the page's form both say it; the same words whether the id
# is nobody, a member since removed or a member of another tenant, so the answer reveals none of them.
_MEMBER_RULE = "must be a member of the client or the provider of this engagement: pick one of their members."
OWNER_RULE = f"The new owner {_MEMBER_RULE}"
FIRST_OWNER_RULE = f"The owner {_MEMBER_RULE}"  # the same rule for the owner of a new action
NOT_A_MEMBER = "not_a_member"  # the error detail's machine-readable code


def owner_transfer(*, action: ActionItem, previous: Membership, owner: Membership, by: Membership) -> None:
    """Set the action's owner and audit it as ``action.owner_transfer`` (owners by e-mail); the caller holds its lock.

    One place for both hand-overs (a reassignment here, closed actions on a member's removal in
    ``membership_holds.py``), so the audit trail records them alike.
    """
    action.owner = owner
    action.save(update_fields=["owner", "updated_at"])
    audit_record(
        actor=by.user,
        organisation=by.organisation,
        action="action.owner_transfer",
        obj=action,
        before={"owner": previous.user.email},
        after={"owner": owner.user.email},
        engagement_id=action.engagement_id,
    )


def action_reassign(*, action: ActionItem, new_owner: Membership | int, by: Membership, now: datetime) -> ActionItem:
    """Make ``new_owner`` (a membership or its id) the owner of the open ``action``; a no-op if they own it already.

    Refused: 404 for an outsider, 403 for a viewer who does not own it, 409 for a closed action,
    422 (at ``owner_membership_id``) when the new owner is not a member of the client or the provider.
    """
    owner_id = new_owner if isinstance(new_owner, int) else new_owner.pk
    with transaction.atomic():
        action = for_update(ActionItem.objects.all()).select_related("engagement").get(pk=action.pk)
        policy.action_require_reassign(actor=by, action=action)
        engagement = action.engagement
        fits = 0 < owner_id < 2**63  # an id past the column's range is nobody, not a database error
        owner = engagement_people(engagement=engagement).filter(pk=owner_id).first() if fits else None
        if owner is None:
            raise PactboardError(OWNER_RULE, [ErrorDetail(OWNER_RULE, OWNER_FIELD, NOT_A_MEMBER)])
        if owner.pk == action.owner_id:
            return action
        previous = Membership.objects.select_related("user").get(pk=action.owner_id)
        owner_transfer(action=action, previous=previous, owner=owner, by=by)
        notify(
            recipients=[owner],
            kind="action.assigned",
            # One notice per hand-over: an action handed back to someone later tells them again.
            cause_key=f"action:{action.pk}:owner:{now:%Y%m%dT%H%M%S%f}",
            title=f"Action for you: {action.title}",
            body=f"{by.user.display_name} ({by.organisation.name}) handed you an action of {engagement.name}"
            f" that {previous.user.display_name} owned, due {date_text(action.due_date)}.",
            url=reverse("governance:action", args=[engagement.pk, action.pk]),
            engagement_id=engagement.pk,
            now=now,
            skip=by,
        )
    return action


__all__ = ["NOT_A_MEMBER", "OWNER_FIELD", "OWNER_RULE", "action_reassign", "owner_transfer"]
