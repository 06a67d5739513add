"""Who may draft, approve and edit incentive terms: one policy, enforced by services, rendered by views.

Approval of a settlement: "finance on the client side, a manager on the provider side". Pactboard's
roles have no finance role (administrator, manager, contributor, viewer), so the client's finance
approval is given by a client administrator or manager, who are the people that sign the
agreement the money comes from; the provider's by a provider administrator or manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pactboard.accounts.models import Membership
from pactboard.core.errors import PactboardError
from pactboard.engagements.models import Engagement
from pactboard.incentives.models import Settlement

Action = Literal["draft", "approve"]
ACTIONS: tuple[Action, ...] = ("draft", "approve")

MANAGERS_ONLY = "Only administrators and managers of either party draft and approve settlements."


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""
    kind: str = "forbidden"


ALLOWED = Verdict(True)


def _side(actor: Membership, engagement: Engagement) -> str | None:
    if actor.organisation_id == engagement.client_id:
        return "client"
    if actor.organisation_id == engagement.provider_id:
        return "provider"
    return None


def settlement_draft_may(*, actor: Membership, engagement: Engagement) -> Verdict:
    """Either party's managers compute (or recompute) a period's draft settlement."""
    if _side(actor, engagement) is None:
        return Verdict(False, "No such engagement.", "not_found")
    return ALLOWED if actor.is_manager else Verdict(False, MANAGERS_ONLY)


def settlement_may(*, actor: Membership, settlement: Settlement, action: Action) -> Verdict:
    """Whether ``actor`` may do ``action`` to ``settlement`` now, and if not, why."""
    engagement = settlement.engagement
    verdict = settlement_draft_may(actor=actor, engagement=engagement)
    if not verdict.allowed:
        return verdict
    if settlement.is_final:
        return Verdict(
            False, f"The settlement of {settlement.period} is final: a correction goes into the next one.", "conflict"
        )
    if action == "approve":
        side = _side(actor, engagement)
        approved = settlement.client_approved_at if side == "client" else settlement.provider_approved_at
        if approved is not None:
            return Verdict(False, f"{actor.organisation} has already approved {settlement.period}.", "conflict")
    return ALLOWED


def settlement_require(*, actor: Membership, settlement: Settlement, action: Action) -> None:
    verdict = settlement_may(actor=actor, settlement=settlement, action=action)
    if not verdict.allowed:
        raise PactboardError(verdict.reason, kind=verdict.kind)


def settlement_draft_require(*, actor: Membership, engagement: Engagement) -> None:
    verdict = settlement_draft_may(actor=actor, engagement=engagement)
    if not verdict.allowed:
        raise PactboardError(verdict.reason, kind=verdict.kind)


def settlement_permissions(*, actor: Membership, settlement: Settlement) -> dict[str, bool]:
    """``{"can_draft": ..., "can_approve": ...}`` for templates."""
    return {f"can_{a}": settlement_may(actor=actor, settlement=settlement, action=a).allowed for a in ACTIONS}


def actor_side(*, actor: Membership, engagement: Engagement) -> str | None:
    """ "client", "provider" or None (not a party)."""
    return _side(actor, engagement)
