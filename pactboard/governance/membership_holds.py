"""What governance holds of a member who is being removed: the actions they own.

An action's owner is protected in the database (``ActionItem.owner``, ``on_delete=PROTECT``): an
action must always say who owes it. The accounts room asks these before it removes a member
(``accounts.ports``); they are connected in ``GovernanceConfig.ready``.

- An open action is work still owed: removal is refused and each open action is named, with where
  it is reassigned or closed. Handing work to someone else is a decision for a person, not a side
  effect of removing a colleague (``action_owners.action_reassign``). Each is located as
  "engagement E, action A": its page /engagements/E/actions/A/ has a Reassign form,
  ``POST /api/engagements/E/actions/A/reassign`` reassigns it and ``PATCH /api/engagements/E/actions/A``
  closes it.
- A closed (done or cancelled) action is the record of what was done: it passes to the
  administrator who removes the member, and an ``action.owner_transfer`` event in the engagement's
  audit log keeps who owned it before.
"""

from __future__ import annotations

from django.db import transaction

from pactboard.accounts.models import Membership
from pactboard.core.errors import ErrorDetail
from pactboard.core.formatting import date_text
from pactboard.core.locks import for_update
from pactboard.governance.action_owners import owner_transfer
from pactboard.governance.models import ActionItem


def membership_open_actions(*, membership: Membership) -> list[ErrorDetail]:
    """Each open action the member owns, named with its engagement and due date, located at its page."""
    actions = (
        ActionItem.objects.filter(owner=membership, status=ActionItem.Status.OPEN)
        .select_related("engagement")
        .order_by("due_date", "id")
    )
    return [
        ErrorDetail(
            f"{a.title} ({a.engagement.name}, due {date_text(a.due_date)})",
            # Ids, not the page's URL: error bodies cut long unbroken runs (core.errors.text_excerpt).
            f"engagement {a.engagement_id}, action {a.pk}",
            "open_action",
        )
        for a in actions
    ]


def membership_closed_actions_handover(*, membership: Membership, actor: Membership) -> int:
    """Pass the member's closed actions to ``actor``, each audited in its engagement's log; how many."""
    with transaction.atomic():
        actions = list(
            for_update(ActionItem.objects.all())
            .filter(owner=membership)
            .exclude(status=ActionItem.Status.OPEN)
            .order_by("id")
        )
        for action in actions:
            owner_transfer(action=action, previous=membership, owner=actor, by=actor)
    return len(actions)
