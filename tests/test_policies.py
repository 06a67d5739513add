"""One policy per room: each actor's allowed actions, from the roles in PRODUCT.md ("Who uses it").

The client sets up engagements and objectives; either party's contributors bring data in and log
business changes; managers declare datasets and recompute; viewers read. An outsider is refused
as "not_found" (a 404), never "forbidden", so a refusal never confirms that an engagement exists.
"""

from __future__ import annotations

import pytest

from pactboard.accounts.models import Role
from pactboard.accounts.policy import members_manage_may
from pactboard.engagements.policy import engagement_may
from pactboard.governance.policy import relevance_may
from pactboard.governance.webhooks import webhooks_may
from pactboard.measurements.policy import measurements_may
from pactboard.reports.models import Report
from pactboard.reports.policy import recipients_may, report_may
from tests.conftest import World, make_member

pytestmark = pytest.mark.django_db

# actor -> {action: expected} ; "not_found" marks the outsider's refusal kind.
ENGAGEMENT = {
    "client_manager": {"edit": True, "edit_objectives": True, "log_change": True},
    "client_viewer": {"edit": False, "edit_objectives": False, "log_change": False},
    "provider_manager": {"edit": False, "edit_objectives": False, "log_change": True},
    "outsider": {"edit": "not_found", "edit_objectives": "not_found", "log_change": "not_found"},
}
MEASUREMENTS = {
    "client_manager": {"contribute": True, "declare": True, "recompute": True},
    "client_viewer": {"contribute": False, "declare": False, "recompute": False},
    "provider_manager": {"contribute": True, "declare": True, "recompute": True},
    "provider_contributor": {"contribute": True, "declare": False, "recompute": False},
    "outsider": {"contribute": "not_found", "declare": "not_found", "recompute": "not_found"},
}

# Webhooks post the engagement's notifications elsewhere: managers of either party manage them.
WEBHOOKS = {
    "client_manager": True,
    "client_viewer": False,
    "provider_manager": True,
    "provider_contributor": False,
    "outsider": "not_found",
}


def _actor(world: World, name: str):
    if name == "provider_contributor":
        return make_member("tina@helpline.example", world.provider_org, Role.CONTRIBUTOR)
    return getattr(world, name)


def _check(verdict, expected) -> None:
    if expected == "not_found":
        assert (verdict.allowed, verdict.kind) == (False, "not_found")
    else:
        assert verdict.allowed is expected, verdict.reason
        if not expected:
            assert verdict.kind == "forbidden"
            assert verdict.reason  # a refusal says why


@pytest.mark.parametrize(("actor", "action"), [(a, x) for a, acts in ENGAGEMENT.items() for x in acts])
def test_engagement_policy(world: World, actor: str, action: str):
    verdict = engagement_may(actor=_actor(world, actor), engagement=world.engagement, action=action)  # type: ignore[arg-type]
    _check(verdict, ENGAGEMENT[actor][action])


@pytest.mark.parametrize(("actor", "action"), [(a, x) for a, acts in MEASUREMENTS.items() for x in acts])
def test_measurements_policy(world: World, actor: str, action: str):
    verdict = measurements_may(actor=_actor(world, actor), engagement=world.engagement, action=action)  # type: ignore[arg-type]
    _check(verdict, MEASUREMENTS[actor][action])


@pytest.mark.parametrize("actor", list(WEBHOOKS))
def test_webhooks_policy(world: World, actor: str):
    _check(webhooks_may(actor=_actor(world, actor), engagement=world.engagement), WEBHOOKS[actor])


# KPI relevance reviews (governance): the client's managers decide and close; either party's managers
# open one; contributors of either party comment; viewers read.
RELEVANCE = {
    "client_manager": {"open": True, "decide": True, "comment": True, "close": True},
    "client_viewer": {"open": False, "decide": False, "comment": False, "close": False},
    "provider_manager": {"open": True, "decide": False, "comment": True, "close": False},
    "provider_contributor": {"open": False, "decide": False, "comment": True, "close": False},
    "outsider": {"open": "not_found", "decide": "not_found", "comment": "not_found", "close": "not_found"},
}


@pytest.mark.parametrize(("actor", "action"), [(a, x) for a, acts in RELEVANCE.items() for x in acts])
def test_relevance_policy(world: World, actor: str, action: str):
    verdict = relevance_may(actor=_actor(world, actor), engagement=world.engagement, action=action)  # type: ignore[arg-type]
    _check(verdict, RELEVANCE[actor][action])


def test_a_closed_relevance_review_no_longer_changes(world: World):
    for action in ("decide", "comment", "close"):
        verdict = relevance_may(actor=world.client_manager, engagement=world.engagement, action=action, is_open=False)  # type: ignore[arg-type]
        assert (verdict.allowed, verdict.kind) == (False, "conflict")


# Reports: both parties read; managers of either party edit a draft's texts and finalise it; each
# party's managers choose their own recipients; a final report is refused as "conflict".
REPORTS = {
    "client_manager": {"edit": True, "finalise": True, "recipients": True},
    "client_viewer": {"edit": False, "finalise": False, "recipients": False},
    "provider_manager": {"edit": True, "finalise": True, "recipients": True},
    "provider_contributor": {"edit": False, "finalise": False, "recipients": False},
    "outsider": {"edit": "not_found", "finalise": "not_found", "recipients": "not_found"},
}


@pytest.mark.parametrize(("actor", "action"), [(a, x) for a, acts in REPORTS.items() for x in acts])
def test_reports_policy(world: World, actor: str, action: str):
    member = _actor(world, actor)
    if action == "recipients":
        verdict = recipients_may(actor=member, engagement=world.engagement)
    else:
        verdict = report_may(actor=member, engagement=world.engagement, report=None, action=action)  # type: ignore[arg-type]
    _check(verdict, REPORTS[actor][action])


def test_a_final_report_is_refused_as_a_conflict(world: World):
    final = Report(engagement=world.engagement, period="2026-10", status=Report.Status.FINAL)
    verdict = report_may(actor=world.client_manager, engagement=world.engagement, report=final, action="edit")
    assert (verdict.allowed, verdict.kind) == (False, "conflict")
    other_party = recipients_may(actor=world.client_manager, engagement=world.engagement, member=world.provider_manager)
    assert (other_party.allowed, other_party.kind) == (False, "forbidden")


# People admin (accounts): administrators invite, change roles, remove members and revoke invitations;
# managers and everyone below only read the member list.
MEMBERS = {"admin": True, "manager": False, "contributor": False, "viewer": False}


@pytest.mark.parametrize("role", list(MEMBERS))
def test_members_policy(world: World, role: str):
    member = make_member(f"{role}@acme.example", world.client_org, role)
    _check(members_manage_may(actor=member), MEMBERS[role])
