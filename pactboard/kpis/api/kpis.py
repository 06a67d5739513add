"""A draft's KPIs: add, change, remove."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ninja import Schema, Status

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.kpis import selectors, services
from pactboard.kpis.api.common import KpiOut, MilestoneIO, _actor, _kpi, _kpi_out, _milestones, _version, router


class KpiIn(Schema):
    """A KPI to add: with ``catalogue_code`` the standard KPI's definition fills what is left out."""

    objective_ids: list[int]
    catalogue_code: str = ""
    code: str = ""
    name: str = ""
    category: str = ""
    unit: str = ""
    direction: str = ""
    definition: str = ""
    period: str = ""
    target: Decimal | None = None
    amber: Decimal | None = None
    stretch: Decimal | None = None
    weight: Decimal | None = None
    baseline_value: Decimal | None = None
    baseline_period: str = ""
    baseline_source: str = ""
    source: str = ""
    dataset: str = ""
    formula: str = ""
    row_filter: str = ""
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    active: bool = True
    milestones: list[MilestoneIO] = []


class KpiPatch(Schema):
    """Only the fields sent change; ``objective_ids`` and ``milestones``, when sent, replace the old ones."""

    objective_ids: list[int] | None = None
    milestones: list[MilestoneIO] | None = None
    code: str | None = None
    name: str | None = None
    category: str | None = None
    unit: str | None = None
    direction: str | None = None
    definition: str | None = None
    period: str | None = None
    target: Decimal | None = None
    amber: Decimal | None = None
    stretch: Decimal | None = None
    weight: Decimal | None = None
    baseline_value: Decimal | None = None
    baseline_period: str | None = None
    baseline_source: str | None = None
    source: str | None = None
    dataset: str | None = None
    formula: str | None = None
    row_filter: str | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    active: bool | None = None


@router.post("/versions/{version_id}/kpis", response={201: KpiOut})
def agreement_kpi_add(request: AuthenticatedHttpRequest, version_id: int, payload: KpiIn) -> Status[dict[str, Any]]:
    """Add a KPI to a draft (409 once the version is proposed or agreed)."""
    version = _version(request, version_id)
    fields = payload.dict(exclude={"objective_ids", "milestones"})
    kpi = services.version_kpi_add(
        actor=_actor(request),
        version=version,
        objective_ids=payload.objective_ids,
        milestones=_milestones(payload.milestones),
        **fields,
    )
    return Status(201, _kpi_out(selectors.version_kpis(version=version).get(pk=kpi.pk)))


@router.patch("/versions/{version_id}/kpis/{kpi_id}", response=KpiOut)
def agreement_kpi_update(
    request: AuthenticatedHttpRequest, version_id: int, kpi_id: int, payload: KpiPatch
) -> dict[str, Any]:
    """Change a KPI of a draft (409 once the version is proposed or agreed)."""
    kpi = _kpi(request, version_id, kpi_id)
    fields = payload.dict(exclude={"objective_ids", "milestones"}, exclude_unset=True)
    services.version_kpi_update(
        actor=_actor(request),
        kpi=kpi,
        objective_ids=payload.objective_ids,
        milestones=_milestones(payload.milestones) if payload.milestones is not None else None,
        **fields,
    )
    return _kpi_out(selectors.version_kpis(version=kpi.version).get(pk=kpi.pk))


@router.delete("/versions/{version_id}/kpis/{kpi_id}", response={204: None})
def agreement_kpi_remove(request: AuthenticatedHttpRequest, version_id: int, kpi_id: int) -> Status[None]:
    """Remove a KPI from a draft (409 once the version is proposed or agreed)."""
    services.version_kpi_remove(actor=_actor(request), kpi=_kpi(request, version_id, kpi_id))
    return Status(204, None)
