"""An engagement with an agreed KPI set: FCR and CSAT computed from contacts, a QA score entered by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pactboard.kpis import negotiation as kpi_negotiation
from pactboard.kpis import services as kpi_services
from pactboard.kpis.models import AgreementVersion
from tests.conftest import World


@pytest.fixture
def agreed(world: World) -> AgreementVersion:
    actor = world.client_manager
    draft = kpi_services.version_draft_start(actor=actor, engagement=world.engagement)
    for code, target, amber in (("first_contact_resolution", "75", "70"), ("csat", "85", "80")):
        kpi_services.version_kpi_add(
            actor=actor,
            version=draft,
            objective_ids=[world.objective.pk],
            catalogue_code=code,
            target=Decimal(target),
            amber=Decimal(amber),
            source="dataset",
        )
    kpi_services.version_kpi_add(
        actor=actor,
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
        source="import",
    )
    kpi_services.version_kpi_add(
        actor=actor,
        version=draft,
        objective_ids=[world.objective.pk],
        code="escalations",
        name="Escalations",
        category="operational",
        unit="count",
        direction="lower",
        period="month",
        target=Decimal("10"),
        amber=Decimal("15"),
        min_value=Decimal("0"),
        source="manual",
    )
    proposed = kpi_negotiation.version_propose(actor=actor, version=draft, effective_from=date(2026, 1, 1))
    kpi_negotiation.version_sign(actor=world.client_manager, version=proposed)
    kpi_negotiation.version_sign(actor=world.provider_manager, version=proposed)
    proposed.refresh_from_db()
    return proposed
