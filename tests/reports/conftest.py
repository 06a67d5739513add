"""An engagement with an agreed KPI set and values for September and October 2026.

Acme support (tests.conftest.World) starts 2026-01-01, Europe/Berlin, monthly report cadence. The
agreed set is tests.measurements.conftest.agreed: FCR (target 75, amber 70) and CSAT (85/80) read
from contacts; QA score (higher is better, target 90, amber 85) and escalations (lower is better,
count, target 10, amber 15), each weight 1, recorded by hand here:

- QA score: September 80 (missed: below amber 85), October 92 (met: at least 90);
- escalations: September 12, October 18 (missed: above amber 15);
- FCR and CSAT: no values (no data).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pactboard.core.periods import Period
from pactboard.engagements.services import business_change_record
from pactboard.governance.services import action_create
from pactboard.kpis.models import AgreementVersion
from pactboard.measurements.services import measurement_record
from tests.conftest import World
from tests.measurements.conftest import agreed  # noqa: F401 - a fixture, used by name

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
OCTOBER = Period.parse("2026-10")
VALUES = (("qa_score", "2026-09", "80"), ("qa_score", "2026-10", "92"), ("escalations", "2026-09", "12"),
          ("escalations", "2026-10", "18"))  # fmt: skip


@pytest.fixture
def reported(world: World, agreed: AgreementVersion) -> World:  # noqa: F811
    for code, label, value in VALUES:
        measurement_record(
            actor=world.provider_manager,
            engagement=world.engagement,
            kpi_code=code,
            period=Period.parse(label),
            value=Decimal(value),
        )
    business_change_record(
        actor=world.client_manager,
        engagement=world.engagement,
        date=date(2026, 10, 12),
        kind="launch",
        title='=HYPERLINK("http://evil.example")',
        description="A formula-looking title, kept as text in every export.",
    )
    action_create(
        actor=world.client_manager,
        engagement=world.engagement,
        title="Cut escalations back under 10",
        owner_id=world.provider_manager.pk,
        due_date=date(2026, 12, 1),
        now=NOW,
        kpi_code="escalations",
    )
    return world
