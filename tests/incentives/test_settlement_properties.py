"""Properties of stored settlements, for any settled and corrected QA values (hypothesis).

The oracle is the scheme's text (tests/incentives/conftest.py), not the code: with a monthly fee
of 100,000.00, QA < 85 costs 10,000.00, 85 ≤ QA < 90 costs 5,000.00, QA ≥ 97 earns 1,000.00.
Each example runs in a savepoint that is rolled back, so examples do not see each other.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pactboard.incentives import services
from pactboard.kpis.models import AgreementVersion
from tests.conftest import World
from tests.incentives.conftest import record

D = Decimal
qa = st.integers(min_value=700, max_value=1000).map(lambda i: D(i).scaleb(-1))  # 70.0 .. 100.0


def net_by_contract(value: Decimal) -> Decimal:
    credit = D("10000.00") if value < 85 else D("5000.00") if value < 90 else D("0.00")
    bonus = D("1000.00") if value >= 97 else D("0.00")
    return bonus - credit


class _Rollback(Exception):
    pass


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(settled=qa, corrected=qa, client_first=st.booleans())
def test_final_is_kept_order_is_irrelevant_and_a_correction_is_one_adjustment(
    world: World, schemed: AgreementVersion, settled: Decimal, corrected: Decimal, client_first: bool
) -> None:
    try:
        with transaction.atomic():
            record(world, "2026-03", str(settled))
            draft = services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-03")
            people = [world.client_manager, world.provider_manager]
            for actor in people if client_first else people[::-1]:
                final = services.settlement_approve(actor=actor, settlement=draft)
                draft = final
            assert final.status == "final"
            assert D(final.statement["net"]) == net_by_contract(settled)
            kept = (final.content_hash, final.statement)

            record(world, "2026-04", "92")  # April: no credit, no bonus
            if corrected != settled:
                record(world, "2026-03", str(corrected), reason="recount")
            april = services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-04")
            adjustments = [x for x in april.statement["lines"] if x["kind"] == "adjustment"]
            change = net_by_contract(corrected) - net_by_contract(settled)
            if change:
                assert [(x["rule"], D(x["amount"])) for x in adjustments] == [("adjustment:2026-03", change)]
            else:
                assert adjustments == []
            assert D(april.statement["payable"]) == change
            final.refresh_from_db()
            assert (final.content_hash, final.statement) == kept
            raise _Rollback
    except _Rollback:
        pass
