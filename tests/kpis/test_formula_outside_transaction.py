"""Saving a KPI compiles its formula before the write transaction opens (issue 13, item 1).

On SQLite a write transaction (BEGIN IMMEDIATE) locks the whole database: a slow formula check
inside it stalled every tenant's writes. The check now runs before; the one inside finds it done.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from pactboard.formulas import compile as compile_module
from pactboard.kpis import services
from tests.conftest import World

pytestmark = pytest.mark.django_db

FORMULA = "avg(handle_seconds) filter (where abandoned = false)"


@pytest.fixture
def compiles(monkeypatch) -> list[int]:
    """How many transactions were open (beyond the test's own) each time a formula was compiled."""
    compile_module.formula_compile_cache_clear()
    baseline = len(connection.atomic_blocks)
    depths: list[int] = []
    original = compile_module._compile

    def recording(**kwargs):  # type: ignore[no-untyped-def]
        depths.append(len(connection.atomic_blocks) - baseline)
        return original(**kwargs)

    monkeypatch.setattr(compile_module, "_compile", recording)
    return depths


def _fields(**extra):  # type: ignore[no-untyped-def]
    return {
        "code": "aht_handled",
        "name": "AHT of handled contacts",
        "category": "operational",
        "unit": "seconds",
        "direction": "lower",
        "period": "month",
        "target": Decimal("300"),
        "source": "dataset",
        "dataset": "contacts",
        "formula": FORMULA,
    } | extra


def test_adding_a_kpi_compiles_its_formula_outside_the_transaction(world: World, compiles):
    draft = services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    kpi = services.version_kpi_add(
        actor=world.client_manager, version=draft, objective_ids=[world.objective.pk], **_fields()
    )
    assert kpi.formula == FORMULA
    assert compiles == [0]  # compiled once, with no transaction open


def test_changing_a_formula_compiles_it_outside_the_transaction(world: World, compiles):
    draft = services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    kpi = services.version_kpi_add(
        actor=world.client_manager, version=draft, objective_ids=[world.objective.pk], **_fields()
    )
    services.version_kpi_update(actor=world.client_manager, kpi=kpi, formula="avg(handle_seconds)")
    assert compiles == [0, 0]


def test_a_refused_formula_is_still_reported_with_the_other_problems(world: World, compiles):
    draft = services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    with pytest.raises(Exception) as err:  # noqa: PT011 - PactboardError, checked below
        services.version_kpi_add(
            actor=world.client_manager,
            version=draft,
            objective_ids=[world.objective.pk],
            **_fields(formula="sum(secret_column)", name=""),
        )
    locations = {d.location for d in err.value.details}  # type: ignore[attr-defined]
    assert {"formula", "name"} <= locations
    assert compiles == [0]
