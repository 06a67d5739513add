"""What an actor may do with an engagement's measurements: record values, declare datasets, recompute.

Either party's contributors bring data in (values by hand, files, dataset records); managers
declare datasets and start recomputations. Services enforce these verdicts, views render them
(``pactboard.core.policy``).
"""

from __future__ import annotations

from typing import Literal

from pactboard.accounts.models import Membership
from pactboard.core.policy import ALLOWED, NOT_A_PARTY, Verdict, verdict_require
from pactboard.engagements.models import Engagement

Action = Literal["contribute", "declare", "recompute"]

_REFUSALS: dict[Action, str] = {
    "contribute": "Viewers cannot record values: ask a contributor or manager.",
    "declare": "Only administrators and managers declare datasets.",
    "recompute": "Only administrators and managers recompute values.",
}


def measurements_may(*, actor: Membership, engagement: Engagement, action: Action) -> Verdict:
    """Whether ``actor`` may do ``action`` on ``engagement``'s data now, and if not, why."""
    if engagement.party_role(actor.organisation_id) is None:
        return NOT_A_PARTY
    allowed = actor.can_contribute if action == "contribute" else actor.is_manager
    return ALLOWED if allowed else Verdict(False, _REFUSALS[action])


def measurements_require(*, actor: Membership, engagement: Engagement, action: Action) -> None:
    verdict_require(measurements_may(actor=actor, engagement=engagement, action=action))


def measurements_permissions(*, actor: Membership, engagement: Engagement) -> dict[str, bool]:
    """``{"can_contribute": ..., "can_declare": ..., "can_recompute": ...}`` for templates."""
    return {
        f"can_{action}": measurements_may(actor=actor, engagement=engagement, action=action).allowed
        for action in _REFUSALS
    }
