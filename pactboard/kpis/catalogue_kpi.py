"""A standard KPI's shape: what the catalogue's entries hold (``kpis/catalogue.py`` has the entries)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from pactboard.scoring.availability import MaintenanceRule, MinuteRule

__all__ = ["PERCENT", "CatalogueKpi", "Derivation", "KpiCategory", "KpiDirection"]

KpiCategory = Literal["operational", "quality", "financial", "customer_satisfaction"]
KpiDirection = Literal["higher", "lower"]
Derivation = Literal["growth_vs_previous", "availability"]


@dataclass(frozen=True)
class CatalogueKpi:
    """A standard KPI: what it measures, exactly, and the formula that computes it per period."""

    code: str
    name: str
    category: KpiCategory
    unit: str  # "%", "seconds", "hours", "count", "currency", "score", "items/hour"
    direction: KpiDirection
    definition: str
    variant: str
    default_period: Literal["week", "month", "quarter"]
    dataset: str
    formula: str
    row_filter: str | None
    min_value: Decimal | None
    max_value: Decimal | None
    source: str
    # Set when the KPI is not the formula's per-period value itself but derived from it:
    # "growth_vs_previous" = (value - previous period's value) / previous x 100.
    # "availability" = (period minutes - downtime minutes) / period minutes x 100 over the period's
    # exact minutes in the engagement's zone, outages clipped to the period (measurements/availability.py),
    # counted by the contract's choices below (pactboard.scoring.availability).
    derivation: Derivation | None = None
    availability_minutes: MinuteRule = "exact"
    availability_maintenance: MaintenanceRule = "none"
    aliases: tuple[str, ...] = field(default=())


PERCENT = (Decimal(0), Decimal(100))  # the range of a KPI in percent
