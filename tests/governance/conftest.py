"""An engagement with two agreed KPIs and October 2026 values: one at risk, one missed.

Acme support (tests.conftest.World) starts 2026-01-01, Europe/Berlin, monthly reviews.
kpi_00 is higher-is-better, target 80, amber 75, with a milestone of 78 on 15 Dec 2026 (its amber
moves with it to 73); kpi_01 lower-is-better, target 20, amber 25 (tests.dashboards.conftest.agree_kpis).
By docs/scoring.md, kpi_00 = 77 for 2026-10 is at risk against the milestone in force (73 ≤ 77 < 78;
also against 80/75 without it) and kpi_01 = 30 is missed (30 > amber 25).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pactboard.core.periods import Period
from pactboard.kpis.services import MilestoneSpec
from pactboard.measurements import services as measurement_services
from tests.conftest import World
from tests.dashboards.conftest import agree_kpis

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
OCTOBER = Period.parse("2026-10")


@pytest.fixture(autouse=True)
def _fresh_agreed_cache():
    from pactboard.dashboards.selectors import agreed_cache_clear

    agreed_cache_clear()
    yield
    agreed_cache_clear()


@pytest.fixture
def gov(world: World) -> World:
    agree_kpis(world, world.engagement, 2, milestone=MilestoneSpec(date=date(2026, 12, 15), target=Decimal(78)))
    measurement_services.values_push(
        actor=world.provider_manager,
        engagement=world.engagement,
        rows=[
            measurement_services.ValueRow(kpi_code="kpi_00", period=OCTOBER, value=Decimal(77)),
            measurement_services.ValueRow(kpi_code="kpi_01", period=OCTOBER, value=Decimal(30)),
        ],
    )
    return world
