"""A final settlement's critical misses open governance actions, once each.

The scheme is conftest.py's: ``qa-credit`` is critical, QA 85 ≤ v < 90 costs 5 % of the monthly fee,
QA ≥ 90 meets the level, QA ≥ 97 earns a 1,000.00 bonus. So QA 88 in 2026-03 is one critical miss
(one action); QA 98 is no miss (no action, one bonus win, which is not posted anywhere yet).

The settlement becomes final at 2026-04-30 22:30 UTC, which is 1 May 2026 00:30 in the engagement's
zone (Europe/Berlin, CEST = UTC+2), so the action is due 1 May + 14 days = 15 May 2026 (not 14 May,
the UTC day + 14).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from pactboard.accounts.models import Membership, Role
from pactboard.audit.models import AuditEvent
from pactboard.core.errors import PactboardError
from pactboard.governance.models import ActionItem, Notification
from pactboard.incentives import services
from pactboard.incentives.models import Settlement
from pactboard.kpis.models import AgreementVersion
from tests.conftest import World, client_for, make_member
from tests.incentives.conftest import record

FINAL_AT = datetime(2026, 4, 30, 22, 30, tzinfo=UTC)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(services.timezone, "now", lambda: FINAL_AT)
    return FINAL_AT


def _final(world: World, period: str, value: str, provider: Membership | None = None) -> Settlement:
    record(world, period, value)
    settlement = services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period=period)
    settlement = services.settlement_approve(actor=world.client_manager, settlement=settlement)
    return services.settlement_approve(actor=provider or world.provider_manager, settlement=settlement)


def test_a_critical_miss_opens_one_action_for_the_provider(
    world: World, schemed: AgreementVersion, frozen: datetime
) -> None:
    # The approver is a provider admin with a higher id than the provider's manager: the approver owns it.
    ada = make_member("ada@helpline.example", world.provider_org, Role.ADMIN)
    settlement = _final(world, "2026-03", "88", provider=ada)
    assert settlement.is_final
    action = ActionItem.objects.get(engagement=world.engagement)
    assert action.title == (
        "Critical service level missed: QA score (qa_score), 2026-03, rule qa-credit:"
        f" {settlement.statement['lines'][0]['explanation'].split(' · ')[0]}"
    )
    assert "88 is in band" in action.title
    assert action.owner == ada  # the provider's approver, not the first manager by id
    assert action.due_date == date(2026, 5, 15)
    assert action.kpi_code == "qa_score"
    assert action.cause_key == f"settlement:{settlement.pk}:rule:qa-credit"
    assert action.status == ActionItem.Status.OPEN
    # The owner is notified, though their own approval set the rule off.
    note = Notification.objects.for_recipient(ada).get()
    assert (note.kind, note.cause_key) == ("action.assigned", f"action:{action.pk}")
    final = AuditEvent.objects.get(action="settlement.final")
    assert final.after["action_ids"] == [action.pk]


def test_an_approver_no_longer_a_manager_leaves_the_action_to_the_first_provider_manager(
    world: World, schemed: AgreementVersion, frozen: datetime
) -> None:
    ada = make_member("ada@helpline.example", world.provider_org, Role.ADMIN)
    record(world, "2026-03", "88")
    settlement = services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-03")
    settlement = services.settlement_approve(actor=ada, settlement=settlement)
    Membership.objects.filter(pk=ada.pk).update(role=Role.VIEWER)
    services.settlement_approve(actor=world.client_manager, settlement=settlement)
    # The client's manager finalised; of the provider, only world.provider_manager (lowest id) still manages.
    assert ActionItem.objects.get().owner == world.provider_manager


def test_approving_again_or_rerunning_opens_no_second_action(
    world: World, schemed: AgreementVersion, frozen: datetime
) -> None:
    settlement = _final(world, "2026-03", "88")
    with pytest.raises(PactboardError):
        services.settlement_approve(actor=world.provider_manager, settlement=settlement)
    with pytest.raises(PactboardError):
        services.settlement_approve(actor=world.client_manager, settlement=settlement)
    assert services.settlement_actions_open(actor=world.client_manager, settlement=settlement, now=frozen) == []
    assert services.settlement_actions_open(actor=world.provider_manager, settlement=settlement, now=frozen) == []
    assert ActionItem.objects.filter(engagement=world.engagement).count() == 1
    assert Notification.objects.count() == 1


def test_a_settlement_without_critical_misses_opens_none(
    world: World, schemed: AgreementVersion, frozen: datetime
) -> None:
    settlement = _final(world, "2026-03", "98")
    assert settlement.is_final
    assert settlement.statement["actions"] == []
    assert not ActionItem.objects.exists()
    assert services.settlement_followups(settlement=settlement).wins  # the bonus's win stays only in the audit


def test_a_draft_opens_nothing_and_its_actions_wait_for_finality(world: World, schemed: AgreementVersion) -> None:
    record(world, "2026-03", "88")
    settlement = services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-03")
    settlement = services.settlement_approve(actor=world.client_manager, settlement=settlement)
    assert not ActionItem.objects.exists()
    with pytest.raises(PactboardError):
        services.settlement_actions_open(actor=world.client_manager, settlement=settlement, now=FINAL_AT)


def test_the_provider_sees_the_action_on_the_actions_page(
    world: World, schemed: AgreementVersion, frozen: datetime
) -> None:
    _final(world, "2026-03", "88")
    action = ActionItem.objects.get()
    page = client_for(world.provider_manager).get(reverse("governance:actions"))
    assert page.status_code == 200
    assert "Critical service level missed: QA score (qa_score), 2026-03" in page.text
    detail = reverse("governance:action", args=[world.engagement.pk, action.pk])
    assert detail in page.text
    assert client_for(world.provider_manager).get(detail).status_code == 200
    # The client's Actions page lists its own organisation's actions only.
    client_page = client_for(world.client_manager).get(reverse("governance:actions"))
    assert "Critical service level missed" not in client_page.text
