"""What the kpis room reads from the measurements room above it (connected in ``MeasurementsConfig.ready``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from pactboard.core.ports import Port

if TYPE_CHECKING:
    from pactboard.engagements.models import Engagement
    from pactboard.formulas.schema import DatasetSchema


class DatasetSchemaFor(Protocol):
    def __call__(self, *, engagement: Engagement | None, name: str) -> DatasetSchema | None: ...


# The schema of an engagement's dataset (its own declaration, else the standard one of that name).
dataset_schema_for: Port[DatasetSchemaFor] = Port("dataset_schema_for")
