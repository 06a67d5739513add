"""Settlements as a product: drafted from recorded values, approved by both parties, final, corrected once.

Expected amounts are worked by hand from the scheme in conftest.py (monthly fee 100,000.00 EUR):
QA 88 is in 85 ≤ v < 90: 5 % × 100,000 = 5,000.00 credit (no earn-back: due), net −5,000.00;
QA 98 is ≥ 97: bonus 1,000.00 and no credit, net 1,000.00; QA 84 is < 85: 10 % = 10,000.00.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from pactboard.accounts.models import Membership
from pactboard.audit.models import AuditEvent
from pactboard.core.errors import PactboardError
from pactboard.documents.selectors import engagement_document_export
from pactboard.documents.services import engagement_document_import
from pactboard.incentives import services
from pactboard.incentives.models import FinalSettlementError, Settlement
from pactboard.kpis import services as kpi_services
from pactboard.kpis.content import content_hash
from pactboard.kpis.models import AgreementVersion
from pactboard.kpis.selectors import version_content, version_diff
from tests.conftest import World
from tests.incentives.conftest import agree, draft_with_qa, qa_scheme, record

D = Decimal


def finalise(world: World, settlement: Settlement, order: tuple[Membership, ...] | None = None) -> Settlement:
    for actor in order or (world.client_manager, world.provider_manager):
        settlement = services.settlement_approve(actor=actor, settlement=settlement)
    return settlement


def test_the_scheme_is_hashed_signed_and_carried_to_the_next_draft(world: World) -> None:
    draft = draft_with_qa(world)
    without = content_hash(version_content(version=draft))
    services.version_scheme_set(actor=world.client_manager, version=draft, scheme=qa_scheme())
    draft.refresh_from_db()
    assert content_hash(version_content(version=draft)) != without
    agreed = agree(world, draft)
    assert agreed.content_hash == content_hash(version_content(version=agreed))
    # A new draft based on it carries the scheme; changing the credit shows in the diff.
    follow = kpi_services.version_draft_start(actor=world.provider_manager, engagement=world.engagement)
    assert follow.incentive_scheme == agreed.incentive_scheme
    changed = qa_scheme()
    changed["credit_rules"][0]["bands"][1]["amount"]["percent"] = "6"
    services.version_scheme_set(actor=world.provider_manager, version=follow, scheme=changed)
    follow.refresh_from_db()
    fields = [c.field for c in version_diff(before=agreed, after=follow).settings]
    assert "incentive_scheme.credit_rules" in fields  # (the draft has no effective date yet either)
    assert "incentive_scheme.bonus_rules" not in fields


def test_a_signed_scheme_never_changes(world: World, schemed: AgreementVersion) -> None:
    with pytest.raises(PactboardError):
        services.version_scheme_set(actor=world.client_manager, version=schemed, scheme=None)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE kpis_agreementversion SET incentive_scheme = NULL WHERE id = %s", [schemed.pk])


def test_a_scheme_naming_an_unknown_kpi_or_currency_is_refused_at_its_place(world: World) -> None:
    draft = draft_with_qa(world)
    bad = qa_scheme(currency="USD")
    bad["bonus_rules"][0]["kpi"] = "csat"
    with pytest.raises(PactboardError) as caught:
        services.version_scheme_set(actor=world.client_manager, version=draft, scheme=bad)
    # version_scheme_set: USD is not the engagement's EUR; the draft holds no KPI csat.
    assert {(d.location, d.code) for d in caught.value.details} == {
        ("currency", "currency_mismatch"),
        ("bonus_rules[0].kpi", "unknown_kpi"),
    }


def test_settlement_lines_and_totals(world: World, schemed: AgreementVersion) -> None:
    record(world, "2026-03", "88")
    settlement = services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-03")
    s = settlement.statement
    assert (s["currency"], s["credits_due"], s["bonuses"], s["net"]) == ("EUR", "5000.00", "0.00", "-5000.00")
    credit = next(x for x in s["lines"] if x["rule"] == "qa-credit")
    assert (credit["value"], credit["amount"], credit["percent"], credit["earn_back"]) == ("88", "5000.00", "5", "due")
    assert s["actions"][0]["rule"] == "qa-credit"  # a critical miss asks for an action
    assert settlement.net == D("-5000.00")


@pytest.mark.parametrize("order", ["client first", "provider first"])
def test_approval_order_does_not_change_the_result(world: World, schemed: AgreementVersion, order: str) -> None:
    # Both orders of the two parties (the whole space): same final statement and hash.
    record(world, "2026-04", "98")
    draft = services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-04")
    before = (draft.content_hash, draft.statement)
    people = (world.client_manager, world.provider_manager)
    first = finalise(world, draft, people if order == "client first" else people[::-1])
    assert first.status == Settlement.Status.FINAL
    assert (first.content_hash, first.statement) == before
    assert first.statement["net"] == "1000.00"


def test_one_party_cannot_approve_twice_and_viewers_cannot_approve(world: World, schemed: AgreementVersion) -> None:
    record(world, "2026-03", "88")
    draft = services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-03")
    with pytest.raises(PactboardError, match="administrators and managers"):
        services.settlement_approve(actor=world.client_viewer, settlement=draft)
    draft = services.settlement_approve(actor=world.client_manager, settlement=draft)
    with pytest.raises(PactboardError, match="already approved"):
        services.settlement_approve(actor=world.client_manager, settlement=draft)
    assert draft.status == Settlement.Status.DRAFT
    with pytest.raises(PactboardError) as caught:
        services.settlement_approve(actor=world.outsider, settlement=draft)
    assert caught.value.kind == "not_found"


def test_approval_of_stale_numbers_is_refused(world: World, schemed: AgreementVersion) -> None:
    record(world, "2026-03", "88")
    draft = services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-03")
    record(world, "2026-03", "91", reason="recount")
    with pytest.raises(PactboardError, match="changed since"):
        services.settlement_approve(actor=world.provider_manager, settlement=draft)


@pytest.mark.parametrize("corrections", [["84"], ["91", "84"], ["88.5"]])
def test_a_final_settlement_never_changes(world: World, schemed: AgreementVersion, corrections: list[str]) -> None:
    record(world, "2026-03", "88")
    final = finalise(
        world, services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-03")
    )
    kept = (final.content_hash, final.statement, final.net)
    for value in corrections:
        record(world, "2026-03", value, reason="late recount")
        with pytest.raises(PactboardError, match="final"):
            services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-03")
    final.refresh_from_db()
    assert (final.content_hash, final.statement, final.net) == kept
    final.net = D(0)
    with pytest.raises(FinalSettlementError):
        final.save()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE incentives_settlement SET net = 0 WHERE id = %s", [final.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM incentives_settlement WHERE id = %s", [final.pk])


@pytest.mark.parametrize(("corrected", "adjustment"), [("84", "-5000.00"), ("91", "5000.00"), ("97", "6000.00")])
def test_a_correction_after_final_becomes_exactly_one_adjustment_line(
    world: World, schemed: AgreementVersion, corrected: str, adjustment: str
) -> None:
    # March settled at QA 88: net −5,000.00. Corrected QA gives a new March net: 84 → −10,000.00;
    # 91 → 0.00; 97 → bonus 1,000.00. The adjustment is new net − settled net.
    record(world, "2026-03", "88")
    finalise(
        world, services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-03")
    )
    record(world, "2026-04", "90")
    record(world, "2026-03", corrected, reason="late recount")
    april = services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-04")
    adjustments = [x for x in april.statement["lines"] if x["kind"] == "adjustment"]
    assert [(x["rule"], x["amount"]) for x in adjustments] == [("adjustment:2026-03", adjustment)]
    # Recomputing April keeps one line; once April is final, May carries none for March.
    april = services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-04")
    assert sum(x["kind"] == "adjustment" for x in april.statement["lines"]) == 1
    finalise(world, april)
    record(world, "2026-05", "90")
    may = services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-05")
    assert [x for x in may.statement["lines"] if x["kind"] == "adjustment"] == []


def test_services_write_audit_events(world: World, schemed: AgreementVersion) -> None:
    record(world, "2026-03", "88")
    finalise(
        world, services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-03")
    )
    actions = list(
        AuditEvent.objects.filter(engagement_id=world.engagement.pk, action__startswith="settlement.").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["settlement.approve", "settlement.approve", "settlement.draft", "settlement.final"]


def test_no_scheme_in_force_is_a_clear_refusal(world: World) -> None:
    agree(world, draft_with_qa(world))
    with pytest.raises(PactboardError, match="no incentive scheme"):
        services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-03")


def test_the_engagement_document_carries_the_scheme_and_round_trips(world: World, schemed: AgreementVersion) -> None:
    first = engagement_document_export(engagement=world.engagement)
    assert "incentives:" in first
    assert "qa-credit" in first
    # A broken scheme in the document is refused at its place in the document, and nothing is written.
    broken = first.replace("fixed: '1000'", "fixed: lots")
    assert broken != first
    with pytest.raises(PactboardError) as caught:
        engagement_document_import(text=broken, actor=world.client_manager)
    assert [d.location for d in caught.value.details] == ["incentives.bonus_rules[0].bands[1].amount.fixed"]
    assert not AgreementVersion.objects.filter(engagement=world.engagement, status="draft").exists()
    # Export → import → export gives the same bytes, and the draft carries the same scheme.
    engagement_document_import(text=first, actor=world.client_manager)
    draft = AgreementVersion.objects.get(engagement=world.engagement, status=AgreementVersion.Status.DRAFT)
    assert draft.incentive_scheme == schemed.incentive_scheme
    assert engagement_document_export(engagement=world.engagement) == first


def _earn_back_scheme() -> dict:
    # The conftest scheme with earn-back: a credit is waived when QA meets 90 in each of the next 2 months.
    scheme = qa_scheme(earn_back={"periods": 2})
    scheme["credit_rules"][0]["earn_back"] = True
    return scheme


@pytest.mark.parametrize(("may", "adjustment"), [("84", "-5000.00"), ("92", None)])
def test_a_credit_pending_at_final_is_settled_once_earn_back_resolves(
    world: World, may: str, adjustment: str | None
) -> None:
    # March QA 88: 5,000.00 pending (no later month yet), net 0.00; final. April QA 95 meets 90: March
    # still pending (1 of 2). May: 84 misses → March's credit becomes due: adjustment −5,000.00 in May;
    # 92 meets → waived: nothing to adjust.
    draft = draft_with_qa(world)
    services.version_scheme_set(actor=world.client_manager, version=draft, scheme=_earn_back_scheme())
    agree(world, draft)
    record(world, "2026-03", "88")
    march = finalise(
        world, services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-03")
    )
    assert (march.statement["credits_pending"], march.statement["net"]) == ("5000.00", "0.00")
    record(world, "2026-04", "95")
    april = services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-04")
    assert [x for x in april.statement["lines"] if x["kind"] == "adjustment"] == []
    finalise(world, april)
    record(world, "2026-05", may)
    may_settlement = services.settlement_draft(
        actor=world.client_manager, engagement=world.engagement, period="2026-05"
    )
    lines = [(x["rule"], x["amount"]) for x in may_settlement.statement["lines"] if x["kind"] == "adjustment"]
    assert lines == ([("adjustment:2026-03", adjustment)] if adjustment else [])
