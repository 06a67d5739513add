"""What the engagements room reads from the kpis room above it (connected in ``KpisConfig.ready``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from pactboard.core.ports import Port

if TYPE_CHECKING:
    from pactboard.engagements.models import Engagement


class ObjectiveKpiCounts(Protocol):
    def __call__(self, *, objective_ids: list[int]) -> dict[int, int]: ...


class EngagementKpiNames(Protocol):
    def __call__(self, *, engagement: Engagement) -> dict[str, str]: ...


# How many KPIs of the engagement's current version measure each objective (the SMART check's "linked").
objective_kpi_counts: Port[ObjectiveKpiCounts] = Port("objective_kpi_counts")
# Every KPI code the engagement has used, with its newest name (business changes link to them).
engagement_kpi_names: Port[EngagementKpiNames] = Port("engagement_kpi_names")
