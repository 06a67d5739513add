"""An engagement whose agreed KPI set carries an incentive scheme, and values recorded month by month.

The scheme (illustrative terms, worked by hand in the tests): the QA score's service level is 90;
85 ≤ QA < 90 costs 5 % of the monthly fee, QA < 85 costs 10 %; QA ≥ 97 earns a fixed bonus of
1,000.00. The engagement's monthly fee is 100,000.00 EUR (tests/conftest.py).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from pactboard.core.periods import Period
from pactboard.incentives import services
from pactboard.kpis import negotiation as kpi_negotiation
from pactboard.kpis import services as kpi_services
from pactboard.kpis.models import AgreementVersion
from pactboard.measurements.services import measurement_record
from tests.conftest import World


def qa_scheme(**extra: Any) -> dict[str, Any]:
    return {
        "currency": "EUR",
        "credit_rules": [
            {
                "type": "bands",
                "code": "qa-credit",
                "kpi": "qa_score",
                "critical": True,
                "earn_back": False,
                "bands": [
                    {"upper": {"value": "85", "inclusive": False}, "amount": {"percent": "10", "base": "monthly_fee"}},
                    {
                        "lower": {"value": "85", "inclusive": True},
                        "upper": {"value": "90", "inclusive": False},
                        "amount": {"percent": "5", "base": "monthly_fee"},
                    },
                    {"lower": {"value": "90", "inclusive": True}, "label": "met"},
                ],
            }
        ],
        "bonus_rules": [
            {
                "code": "qa-bonus",
                "kpi": "qa_score",
                "bands": [
                    {"upper": {"value": "97", "inclusive": False}},
                    {"lower": {"value": "97", "inclusive": True}, "amount": {"fixed": "1000"}},
                ],
            }
        ],
        **extra,
    }


def draft_with_qa(world: World) -> AgreementVersion:
    draft = kpi_services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    kpi_services.version_kpi_add(
        actor=world.client_manager,
        version=draft,
        objective_ids=[world.objective.pk],
        code="qa_score",
        name="QA score",
        category="quality",
        unit="%",
        direction="higher",
        period="month",
        target=Decimal("90"),
        amber=Decimal("85"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        source="manual",
    )
    return draft


def agree(world: World, draft: AgreementVersion) -> AgreementVersion:
    proposed = kpi_negotiation.version_propose(
        actor=world.client_manager, version=draft, effective_from=date(2026, 1, 1)
    )
    kpi_negotiation.version_sign(actor=world.client_manager, version=proposed)
    kpi_negotiation.version_sign(actor=world.provider_manager, version=proposed)
    proposed.refresh_from_db()
    return proposed


@pytest.fixture
def schemed(world: World) -> AgreementVersion:
    draft = draft_with_qa(world)
    services.version_scheme_set(actor=world.client_manager, version=draft, scheme=qa_scheme())
    return agree(world, draft)


def record(world: World, period: str, value: str, reason: str = "") -> None:
    measurement_record(
        actor=world.provider_manager,
        engagement=world.engagement,
        kpi_code="qa_score",
        period=Period.parse(period),
        value=Decimal(value),
        reason=reason,
    )
