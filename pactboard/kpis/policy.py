"""What an actor may do to an agreement version: one policy, enforced by services, rendered by views.

Each rule is written once, as a ``Verdict`` with the words that explain a refusal. Services call
``version_require`` (on the row they have locked), views call ``version_permissions`` to decide
which buttons to show, so a button is shown exactly when the service would accept its action.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from pactboard.accounts.models import Membership
from pactboard.core.errors import PactboardError
from pactboard.core.policy import ALLOWED, NOT_A_PARTY, Verdict, verdict_require
from pactboard.engagements.models import Engagement
from pactboard.kpis.models import AgreementVersion

Status = AgreementVersion.Status
Action = Literal["edit", "propose", "sign", "counter", "withdraw", "comment"]
ACTIONS: tuple[Action, ...] = ("edit", "propose", "sign", "counter", "withdraw", "comment")

MANAGERS_ONLY = "Only administrators and managers of either party draft, propose and sign KPI agreements."


def draft_start_require(*, actor: Membership, engagement: Engagement) -> None:
    """Either party's managers may start a draft; others are refused (an outsider as if it did not exist)."""
    if engagement.party_role(actor.organisation_id) is None:
        raise PactboardError("No such engagement.", kind="not_found")
    if not actor.is_manager:
        raise PactboardError(MANAGERS_ONLY, kind="forbidden")


def _party(actor: Membership, version: AgreementVersion) -> Verdict:
    return ALLOWED if version.engagement.party_role(actor.organisation_id) is not None else NOT_A_PARTY


def _manager(actor: Membership, version: AgreementVersion) -> Verdict:
    party = _party(actor, version)
    if not party.allowed:
        return party
    return ALLOWED if actor.is_manager else Verdict(False, MANAGERS_ONLY)


def _draft(version: AgreementVersion) -> Verdict:
    if version.status == Status.DRAFT:
        return ALLOWED
    return Verdict(
        False,
        f"Version {version.number} is {version.get_status_display().lower()} and can no longer change: "
        "start a new draft based on it.",
        "conflict",
    )


def version_may(
    *, actor: Membership, version: AgreementVersion, action: Action, signed_orgs: Collection[int] = ()
) -> Verdict:
    """Whether ``actor`` may do ``action`` to ``version`` now, and if not, why (``signed_orgs``: who has signed)."""
    if action == "comment":
        party = _party(actor, version)
        if not party.allowed:
            return party
        if not actor.can_contribute:
            return Verdict(False, "Viewers cannot comment.")
        if version.status not in (Status.DRAFT, Status.PROPOSED):
            return Verdict(False, f"Version {version.number} is closed for comments.", "conflict")
        return ALLOWED
    manager = _manager(actor, version)
    if not manager.allowed:
        return manager
    mine = version.proposed_by_org_id == actor.organisation_id
    if action in ("edit", "propose"):
        return _draft(version)
    if action == "sign":
        if version.status != Status.PROPOSED:
            return Verdict(
                False,
                f"Version {version.number} is {version.get_status_display().lower()}: "
                "only a proposed version can be signed.",
                "conflict",
            )
        if actor.organisation_id in signed_orgs:
            return Verdict(False, f"{actor.organisation} has already signed version {version.number}.", "conflict")
        return ALLOWED
    if action == "counter":
        if version.status != Status.PROPOSED:
            return Verdict(False, "Only a proposed version can be answered with a counter-proposal.", "conflict")
        if mine:
            return Verdict(
                False, "Your organisation made this proposal: withdraw it and start a new draft instead.", "conflict"
            )
        return ALLOWED
    # withdraw
    if version.status == Status.PROPOSED and not mine:
        return Verdict(
            False, "Only the party that proposed a version can withdraw it; answer it with a counter-proposal."
        )
    if version.status not in (Status.DRAFT, Status.PROPOSED):
        return Verdict(
            False, f"A version that is {version.get_status_display().lower()} cannot be withdrawn.", "conflict"
        )
    return ALLOWED


def version_require(
    *, actor: Membership, version: AgreementVersion, action: Action, signed_orgs: Collection[int] = ()
) -> None:
    """Raise the refusal ``version_may`` gives, as the domain error services raise."""
    verdict_require(version_may(actor=actor, version=version, action=action, signed_orgs=signed_orgs))


def version_permissions(
    *, actor: Membership, version: AgreementVersion, signed_orgs: Collection[int]
) -> dict[str, bool]:
    """``{"can_edit": ..., "can_sign": ...}`` for templates: each action the policy allows now."""
    return {
        f"can_{action}": version_may(actor=actor, version=version, action=action, signed_orgs=signed_orgs).allowed
        for action in ACTIONS
    }
