"""Engagements with agreed KPI sets and values, built through the services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from pactboard.accounts.models import Membership
from pactboard.core.periods import Period, periods_between
from pactboard.dashboards.selectors import agreed_cache_clear
from pactboard.engagements.models import Engagement, Objective
from pactboard.kpis import negotiation as kpi_negotiation
from pactboard.kpis import services as kpi_services
from pactboard.kpis.models import AgreementVersion
from pactboard.kpis.services import MilestoneSpec
from pactboard.measurements import services as measurement_services
from tests.conftest import World, make_engagement

FIRST_MONTH = Period("month", date(2024, 1, 1))


@pytest.fixture(autouse=True)
def _fresh_agreed_cache():
    # Test databases reuse ids; a cached agreed version must not outlive its test.
    agreed_cache_clear()
    yield
    agreed_cache_clear()


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "uploads"
    settings.DATASETS_DIR = tmp_path / "datasets"


def kpi_code(i: int) -> str:
    return f"kpi_{i:02d}"


def agree_kpis(
    world: World,
    engagement: Engagement,
    n: int,
    *,
    effective_from: date | None = None,
    milestone: MilestoneSpec | None = None,
) -> AgreementVersion:
    """Sign ``n`` monthly percentage KPIs: even ones higher-is-better (80/75/90), odd ones lower (20/25/15)."""
    objective = Objective.objects.create(engagement=engagement, key=f"goal-{engagement.pk}", statement="Do well")
    actor = world.client_manager
    draft = kpi_services.version_draft_start(actor=actor, engagement=engagement)
    for i in range(n):
        higher = i % 2 == 0
        kpi_services.version_kpi_add(
            actor=actor,
            version=draft,
            objective_ids=[objective.pk],
            milestones=[milestone] if milestone and i == 0 else [],
            code=kpi_code(i),
            name=f"KPI {i:02d}",
            category="operational",
            unit="%",
            direction="higher" if higher else "lower",
            period="month",
            target=Decimal(80 if higher else 20),
            amber=Decimal(75 if higher else 25),
            stretch=Decimal(90 if higher else 15),
            weight=Decimal(1 + i % 3),
            baseline_value=Decimal(70 if higher else 30) if i == 0 else None,
            baseline_period="2023-Q4" if i == 0 else "",
            min_value=Decimal(0),
            max_value=Decimal(100),
            source="manual",
        )
    proposed = kpi_negotiation.version_propose(
        actor=actor, version=draft, effective_from=effective_from or engagement.start_date
    )
    kpi_negotiation.version_sign(actor=world.client_manager, version=proposed)
    kpi_negotiation.version_sign(actor=world.provider_manager, version=proposed)
    proposed.refresh_from_db()
    return proposed


def value_for(i: int, period_index: int) -> Decimal:
    """A deterministic value that walks through every status band."""
    base = Decimal(70 + (period_index * 7 + i * 3) % 25)  # 70..94
    return base if i % 2 == 0 else Decimal(100) - base  # lower-is-better mirror: 6..30


def push_values(
    actor: Membership,
    engagement: Engagement,
    codes: list[str],
    periods: list[Period],
    *,
    skip: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
) -> None:
    rows = [
        measurement_services.ValueRow(kpi_code=code, period=p, value=value_for(i, j))
        for i, code in enumerate(codes)
        for j, p in enumerate(periods)
        if (code, p.label) not in skip
    ]
    measurement_services.values_push(actor=actor, engagement=engagement, rows=rows)


BuildEngagement = Callable[..., Engagement]


@pytest.fixture
def build_engagement(world: World) -> BuildEngagement:
    """An engagement of ``world.client_org`` (2024-01 to 2026-12) with ``kpis`` KPIs and ``months`` months of values."""

    def build(kpis: int, months: int, name: str = "Big support") -> Engagement:
        engagement = make_engagement(world.client_org, world.provider_org, name)
        engagement.start_date, engagement.end_date = date(2024, 1, 1), date(2026, 12, 31)
        engagement.save()
        agree_kpis(world, engagement, kpis)
        periods = periods_between("month", FIRST_MONTH, FIRST_MONTH.shift(months - 1))
        push_values(world.provider_manager, engagement, [kpi_code(i) for i in range(kpis)], periods)
        return engagement

    return build
