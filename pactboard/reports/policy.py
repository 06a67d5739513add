"""Who may read, edit, finalise a report and set its recipients: one policy, enforced by services, shown by views.

Both parties read every report and the archive. Administrators and managers of either party edit
a draft's successes and challenges and finalise it (the report speaks for the engagement, like the
agreement both sign). Each party's managers choose their own party's recipients.
"""

from __future__ import annotations

from typing import Literal

from pactboard.accounts.models import Membership
from pactboard.core.policy import ALLOWED, NOT_A_PARTY, Verdict, verdict_require
from pactboard.engagements.models import Engagement
from pactboard.reports.models import Report

Action = Literal["edit", "finalise"]
ACTIONS: tuple[Action, ...] = ("edit", "finalise")

MANAGERS_ONLY = "Only administrators and managers of either party edit and finalise reports."


def report_may(*, actor: Membership, engagement: Engagement, report: Report | None, action: Action) -> Verdict:
    """Whether ``actor`` may ``action`` the report of a period (``report`` None: not drafted yet)."""
    if engagement.party_role(actor.organisation_id) is None:
        return NOT_A_PARTY
    if not actor.is_manager:
        return Verdict(False, MANAGERS_ONLY)
    if report is not None and report.is_final:
        return Verdict(False, f"The report of {report.period} is final: it is archived as it was sent.", "conflict")
    return ALLOWED


def report_require(*, actor: Membership, engagement: Engagement, report: Report | None, action: Action) -> None:
    verdict_require(report_may(actor=actor, engagement=engagement, report=report, action=action))


def report_permissions(*, actor: Membership, engagement: Engagement, report: Report | None) -> dict[str, bool]:
    """``{"can_edit": ..., "can_finalise": ...}`` for templates."""
    return {
        f"can_{a}": report_may(actor=actor, engagement=engagement, report=report, action=a).allowed for a in ACTIONS
    }


def recipients_may(*, actor: Membership, engagement: Engagement, member: Membership | None = None) -> Verdict:
    """Whether ``actor`` may add or remove recipients (``member``: of the actor's own party only)."""
    if engagement.party_role(actor.organisation_id) is None:
        return NOT_A_PARTY
    if not actor.is_manager:
        return Verdict(False, "Only administrators and managers choose who receives the reports.")
    if member is not None and member.organisation_id != actor.organisation_id:
        return Verdict(False, "Each party chooses its own recipients: pick a member of your organisation.")
    return ALLOWED


def recipients_require(*, actor: Membership, engagement: Engagement, member: Membership | None = None) -> None:
    verdict_require(recipients_may(actor=actor, engagement=engagement, member=member))
