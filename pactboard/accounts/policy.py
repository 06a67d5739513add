"""What an actor may do to their organisation's people: invite, change roles, remove, revoke invitations.

Administrators manage the organisation's members (PRODUCT.md, "who uses it"); everyone else reads
the member list. Another organisation's members are not found, never forbidden: services resolve
the member within the actor's organisation first, then ask this policy.
"""

from __future__ import annotations

from pactboard.accounts.models import Membership
from pactboard.core.policy import ALLOWED, Verdict

ADMINS_ONLY = "Only administrators of the organisation invite people, change roles and remove members."


def members_manage_may(*, actor: Membership) -> Verdict:
    """Whether ``actor`` may invite, change roles, remove members and see or revoke pending invitations."""
    return ALLOWED if actor.is_admin else Verdict(False, ADMINS_ONLY)
