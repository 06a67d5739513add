"""What an actor may do in governance: one policy, enforced by services, rendered by views.

Both parties of an engagement see the same meetings, actions and feedback. Contributors and
managers of either party write (minutes, decisions, actions, comments); managers schedule
meetings, send invitations and close the minutes; viewers read. Closed minutes no longer change.
An outsider is refused as if the object did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pactboard.accounts.models import Membership
from pactboard.core.errors import PactboardError
from pactboard.engagements.models import Engagement
from pactboard.governance.models import ActionItem, FeedbackThread, Meeting

MeetingAction = Literal["schedule", "record", "invite", "close"]
MEETING_ACTIONS: tuple[MeetingAction, ...] = ("schedule", "record", "invite", "close")
ThreadAction = Literal["comment", "resolve", "reopen"]
THREAD_ACTIONS: tuple[ThreadAction, ...] = ("comment", "resolve", "reopen")

MANAGERS_ONLY = "Only administrators and managers of either party schedule reviews, send invitations and close minutes."
VIEWERS_READ = "Viewers read reviews, actions and feedback; ask a contributor or a manager to write."


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""
    kind: str = "forbidden"


ALLOWED = Verdict(True)
NOT_FOUND = Verdict(False, "No such engagement.", "not_found")


def _require(verdict: Verdict) -> None:
    if not verdict.allowed:
        raise PactboardError(verdict.reason, kind=verdict.kind)


def engagement_may(*, actor: Membership, engagement: Engagement, action: MeetingAction) -> Verdict:
    """Engagement-level governance: scheduling reviews (managers) and recording actions (contributors)."""
    if engagement.party_role(actor.organisation_id) is None:
        return NOT_FOUND
    if action in ("schedule", "invite", "close"):
        return ALLOWED if actor.is_manager else Verdict(False, MANAGERS_ONLY)
    return ALLOWED if actor.can_contribute else Verdict(False, VIEWERS_READ)


def meeting_may(*, actor: Membership, meeting: Meeting, action: MeetingAction) -> Verdict:
    """Whether ``actor`` may do ``action`` to ``meeting`` now, and if not, why."""
    verdict = engagement_may(actor=actor, engagement=meeting.engagement, action=action)
    if not verdict.allowed:
        return verdict
    if action in ("record", "close") and meeting.minutes_closed:
        return Verdict(False, "The minutes of this meeting are closed and no longer change.", "conflict")
    if action == "invite" and meeting.minutes_closed:
        return Verdict(
            False, "This meeting is over and its minutes are closed: there is nothing to invite to.", "conflict"
        )
    return ALLOWED


def meeting_require(*, actor: Membership, meeting: Meeting, action: MeetingAction) -> None:
    _require(meeting_may(actor=actor, meeting=meeting, action=action))


def engagement_require(*, actor: Membership, engagement: Engagement, action: MeetingAction) -> None:
    _require(engagement_may(actor=actor, engagement=engagement, action=action))


def meeting_permissions(*, actor: Membership, meeting: Meeting) -> dict[str, bool]:
    """``{"can_record": ..., "can_close": ...}`` for templates."""
    return {f"can_{a}": meeting_may(actor=actor, meeting=meeting, action=a).allowed for a in MEETING_ACTIONS}


def action_may_update(*, actor: Membership, action: ActionItem) -> Verdict:
    """The owner, and contributors of either party, change an action's status."""
    if action.engagement.party_role(actor.organisation_id) is None:
        return NOT_FOUND
    if action.owner_id == actor.pk or actor.can_contribute:
        return ALLOWED
    return Verdict(False, VIEWERS_READ)


def action_require_update(*, actor: Membership, action: ActionItem) -> None:
    _require(action_may_update(actor=actor, action=action))


def thread_may(*, actor: Membership, thread: FeedbackThread, action: ThreadAction) -> Verdict:
    if thread.engagement.party_role(actor.organisation_id) is None:
        return NOT_FOUND
    if not actor.can_contribute:
        return Verdict(False, VIEWERS_READ)
    if action == "resolve" and not thread.is_open:
        return Verdict(False, "This thread is already resolved.", "conflict")
    if action == "reopen" and thread.is_open:
        return Verdict(False, "This thread is open.", "conflict")
    return ALLOWED


def thread_require(*, actor: Membership, thread: FeedbackThread, action: ThreadAction) -> None:
    _require(thread_may(actor=actor, thread=thread, action=action))


def thread_permissions(*, actor: Membership, thread: FeedbackThread) -> dict[str, bool]:
    return {f"can_{a}": thread_may(actor=actor, thread=thread, action=a).allowed for a in THREAD_ACTIONS}


# --- KPI relevance reviews ---------------------------------------------------------------------------
# Managers of either party open a review (the schedule opens them too); the client's managers decide
# (keep, adjust, retire) and close it; contributors of either party comment on each KPI; everyone of
# both parties reads it. A closed review no longer changes.

RelevanceAction = Literal["open", "decide", "comment", "close"]
RELEVANCE_ACTIONS: tuple[RelevanceAction, ...] = ("open", "decide", "comment", "close")
CLIENT_DECIDES = "Only the client's administrators and managers decide on KPIs in a relevance review and close it."
RELEVANCE_OPENERS = "Only administrators and managers of either party open a relevance review."


def relevance_may(
    *, actor: Membership, engagement: Engagement, action: RelevanceAction, is_open: bool = True
) -> Verdict:
    """Whether ``actor`` may do ``action`` to the engagement's relevance review (open or closed), and if not, why."""
    role = engagement.party_role(actor.organisation_id)
    if role is None:
        return NOT_FOUND
    if action == "open":
        return ALLOWED if actor.is_manager else Verdict(False, RELEVANCE_OPENERS)
    if action == "comment":
        if not actor.can_contribute:
            return Verdict(False, VIEWERS_READ)
    elif role != "client" or not actor.is_manager:
        return Verdict(False, CLIENT_DECIDES)
    if not is_open:
        return Verdict(False, "This relevance review is closed and no longer changes.", "conflict")
    return ALLOWED


def relevance_require(
    *, actor: Membership, engagement: Engagement, action: RelevanceAction, is_open: bool = True
) -> None:
    _require(relevance_may(actor=actor, engagement=engagement, action=action, is_open=is_open))


def relevance_permissions(*, actor: Membership, engagement: Engagement, is_open: bool) -> dict[str, bool]:
    """``{"can_decide": ..., "can_close": ...}`` for templates."""
    return {
        f"can_{a}": relevance_may(actor=actor, engagement=engagement, action=a, is_open=is_open).allowed
        for a in RELEVANCE_ACTIONS
    }


# --- alert settings ----------------------------------------------------------------------------------
# The thresholds judge the provider's delivery (when a KPI is chronic, when its data is late), so the
# client's administrators and managers set them: the measured party does not loosen its own alarms.
# Everyone of both parties reads them.

CLIENT_SETS_ALERTS = "Only the client's administrators and managers change the engagement's alert settings."


def alert_settings_may(*, actor: Membership, engagement: Engagement) -> Verdict:
    """Whether ``actor`` may change the engagement's alert settings, and if not, why."""
    role = engagement.party_role(actor.organisation_id)
    if role is None:
        return NOT_FOUND
    if role != "client" or not actor.is_manager:
        return Verdict(False, CLIENT_SETS_ALERTS)
    return ALLOWED


def alert_settings_require(*, actor: Membership, engagement: Engagement) -> None:
    _require(alert_settings_may(actor=actor, engagement=engagement))


# --- reassigning an action ---------------------------------------------------------------------------
# Whoever may record an action (contributors and managers of either party) may hand an open one to
# another member of either party; the owner may hand over their own. Closed actions keep their owner.


def action_may_reassign(*, actor: Membership, action: ActionItem) -> Verdict:
    verdict = action_may_update(actor=actor, action=action)
    if not verdict.allowed:
        return verdict
    if action.status != ActionItem.Status.OPEN:
        return Verdict(
            False,
            f"This action is {action.get_status_display().lower()}: only an open action is reassigned.",
            "conflict",
        )
    return ALLOWED


def action_require_reassign(*, actor: Membership, action: ActionItem) -> None:
    _require(action_may_reassign(actor=actor, action=action))
