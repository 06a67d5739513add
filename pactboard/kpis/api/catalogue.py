"""The KPI catalogue, standard and the actor organisation's own."""

from __future__ import annotations

from typing import Any

from ninja import Schema

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.api import paged
from pactboard.kpis import selectors
from pactboard.kpis.api.common import _actor, router


class CatalogueEntryOut(Schema):
    code: str
    name: str
    category: str
    unit: str
    direction: str
    definition: str
    variant: str
    default_period: str
    dataset: str
    formula: str
    row_filter: str | None
    source: str
    custom: bool


@router.get("/catalogue", response=list[CatalogueEntryOut])
@paged
def kpi_catalogue(request: AuthenticatedHttpRequest, q: str = "") -> list[dict[str, Any]]:
    """Standard KPIs (in catalogue order), then the token organisation's custom KPIs (by code), matching ``q``."""
    standard, custom = selectors.catalogue_entries(membership=_actor(request), query=q)
    return [
        *(
            {
                "code": k.code,
                "name": k.name,
                "category": k.category,
                "unit": k.unit,
                "direction": k.direction,
                "definition": k.definition,
                "variant": k.variant,
                "default_period": k.default_period,
                "dataset": k.dataset,
                "formula": k.formula,
                "row_filter": k.row_filter,
                "source": k.source,
                "custom": False,
            }
            for k in standard
        ),
        *(
            {
                "code": k.code,
                "name": k.name,
                "category": k.category,
                "unit": k.unit,
                "direction": k.direction,
                "definition": k.definition,
                "variant": "",
                "default_period": k.default_period,
                "dataset": k.dataset,
                "formula": k.formula,
                "row_filter": k.row_filter or None,
                "source": "custom",
                "custom": True,
            }
            for k in custom
        ),
    ]
