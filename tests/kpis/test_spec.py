"""One KPI specification, one check: every door (service, API, form, document) refuses alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from pactboard.core.errors import PactboardError
from pactboard.formulas.schema import STANDARD_SCHEMAS
from pactboard.kpis import services
from pactboard.kpis.forms import KpiForm
from pactboard.kpis.models import Category, DataSource, Direction, PeriodKind, VersionKpi
from pactboard.kpis.spec import (
    CATEGORIES,
    DIRECTIONS,
    MAX_LENGTHS,
    PERIODS,
    SOURCES,
    KpiSpec,
    kpi_spec_check,
    kpi_spec_with_catalogue,
)
from pactboard.scoring import Milestone
from tests.conftest import World
from tests.kpis.test_api import _api as api_client

SOUND = KpiSpec(
    code="aht",
    name="Average handle time",
    category="operational",
    unit="seconds",
    direction="lower",
    period="month",
    target=Decimal("300"),
    amber=Decimal("330"),
    stretch=Decimal("280"),
)


def _check(spec: KpiSpec) -> dict[str, str]:
    found = kpi_spec_check(
        spec, engagement_start=date(2026, 1, 1), engagement_end=date(2027, 12, 31), dataset_schema=STANDARD_SCHEMAS.get
    )
    return {p.location or "": p.message for p in found}


def test_the_allowed_values_are_the_models_choices():
    assert tuple(Category.values) == CATEGORIES
    assert tuple(Direction.values) == DIRECTIONS
    assert tuple(PeriodKind.values) == PERIODS
    assert tuple(DataSource.values) == SOURCES


def test_a_sound_spec_has_no_problem():
    assert _check(SOUND) == {}


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"period": "decade"}, "period"),
        ({"direction": "sideways"}, "direction"),
        ({"category": "vibes"}, "category"),
        ({"source": "rumour"}, "source"),
        ({"name": "n" * 100_000}, "name"),
        ({"unit": "u" * 10_000}, "unit"),
        ({"code": "Bad Code"}, "code"),
        ({"target": Decimal("1e30")}, "target"),
        ({"baseline_value": Decimal("-1e18")}, "baseline_value"),
        ({"weight": Decimal("1e6")}, "weight"),
        ({"amber": Decimal("250")}, "amber"),  # lower is better: amber must be worse, i.e. above 300
        ({"stretch": Decimal("310")}, "stretch"),
        ({"min_value": Decimal("10"), "max_value": Decimal("5")}, "min_value"),
        ({"max_value": Decimal("299")}, "target"),
        ({"milestones": (Milestone(date=date(2030, 1, 1), target=Decimal("320")),)}, "milestones[0].date"),
        ({"source": "dataset", "dataset": "nope", "formula": "count(*)"}, "dataset"),
        ({"source": "dataset", "dataset": "contacts", "formula": ""}, "formula"),
        ({"source": "dataset", "dataset": "contacts", "formula": "sum(no_such_column)"}, "formula"),
    ],
)
def test_each_rule_is_refused_at_its_field(change: dict, location: str):
    problems = _check(replace(SOUND, **change))
    assert location in problems, problems


def test_a_too_long_name_is_refused_not_cut_and_not_echoed_whole():
    problems = _check(replace(SOUND, name="n" * 100_000))
    assert problems["name"] == "at most 120 characters (this has 100,000)"


def test_catalogue_defaults_fill_only_what_is_left_out():
    spec = kpi_spec_with_catalogue(KpiSpec(catalogue_code="first_contact_resolution", name="FCR (phone)"))
    assert spec.name == "FCR (phone)"  # given: kept
    assert spec.code == "first_contact_resolution"  # left out: from the catalogue
    assert spec.direction == "higher"
    assert spec.unit == "%"
    assert spec.dataset == "contacts"
    assert spec.formula


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [("period", "decade"), ("direction", "sideways"), ("name", "n" * 100_000), ("unit", "u" * 10_000)],
)
def test_the_api_refuses_what_the_form_refuses(world: World, field: str, value: str):
    draft = services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    payload = {
        "code": "aht",
        "name": "Average handle time",
        "category": "operational",
        "unit": "seconds",
        "direction": "lower",
        "period": "month",
        "target": "300",
        "objective_ids": [world.objective.pk],
        field: value,
    }
    response = api_client(world.client_manager).post(
        f"/api/versions/{draft.pk}/kpis", payload, content_type="application/json"
    )
    assert response.status_code == 422, response.content
    assert field in {d["location"] for d in response.json()["details"]}
    assert len(response.content) < 5_000  # the refused input is not sent back whole
    assert not VersionKpi.objects.filter(version=draft).exists()


@pytest.mark.django_db
def test_a_target_the_database_cannot_hold_is_refused_by_the_service(world: World):
    draft = services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    with pytest.raises(PactboardError) as caught:
        services.version_kpi_add(
            actor=world.client_manager,
            version=draft,
            objective_ids=[world.objective.pk],
            milestones=[],
            code="aht",
            name="Average handle time",
            category="operational",
            unit="seconds",
            direction="lower",
            period="month",
            target=Decimal("1e30"),
        )
    assert [d.location for d in caught.value.details] == ["target"]
    assert not draft.kpis.exists()


def test_the_form_takes_its_lengths_from_the_spec():
    for name in ("name", "code", "unit", "baseline_period", "dataset"):
        assert KpiForm.base_fields[name].max_length == MAX_LENGTHS[name], name  # type: ignore[attr-defined]
