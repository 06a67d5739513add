"""What an actor may do to an engagement, its objectives, business changes and the provider's profile.

The client sets up engagements and objectives (PRODUCT.md, "who uses it"); the provider keeps its
capability profile; either party's contributors log business changes. Services enforce these
verdicts, views render them (``pactboard.core.policy``).
"""

from __future__ import annotations

from typing import Literal

from pactboard.accounts.models import Membership
from pactboard.core.policy import ALLOWED, NOT_A_PARTY, Verdict, verdict_require
from pactboard.engagements.models import Engagement

Action = Literal["edit", "edit_objectives", "log_change"]

CLIENT_MANAGERS = "Only administrators and managers of the client organisation can do this."


def engagement_create_may(*, actor: Membership) -> Verdict:
    if actor.organisation.is_client and actor.is_manager:
        return ALLOWED
    return Verdict(False, "Only administrators and managers of a client organisation create engagements.")


def provider_profile_edit_may(*, actor: Membership) -> Verdict:
    if actor.organisation.is_provider and actor.is_manager:
        return ALLOWED
    return Verdict(False, "Only administrators and managers of the provider edit its capability profile.")


def engagement_may(*, actor: Membership, engagement: Engagement, action: Action) -> Verdict:
    """Whether ``actor`` may do ``action`` to ``engagement`` now, and if not, why."""
    side = engagement.party_role(actor.organisation_id)
    if side is None:
        return NOT_A_PARTY
    if action == "log_change":
        if actor.can_contribute:
            return ALLOWED
        return Verdict(False, "Viewers cannot log business changes: ask a contributor or manager.")
    if side == "client" and actor.is_manager:
        return ALLOWED
    if action == "edit_objectives":
        return Verdict(False, "Only administrators and managers of the client organisation can change objectives.")
    return Verdict(False, CLIENT_MANAGERS)


def engagement_require(*, actor: Membership, engagement: Engagement, action: Action) -> None:
    verdict_require(engagement_may(actor=actor, engagement=engagement, action=action))


def engagement_permissions(*, actor: Membership, engagement: Engagement) -> dict[str, bool]:
    """``{"can_edit": ..., "can_log_change": ...}`` for templates."""
    return {
        f"can_{action}": engagement_may(actor=actor, engagement=engagement, action=action).allowed
        for action in ("edit", "edit_objectives", "log_change")
    }
