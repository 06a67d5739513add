"""Incremental recompute of a dataset's KPIs, within bounded DuckDB resources.

A new dataset version replaces the local days its upload covers and keeps every other record as
it was (``services._merge_versions``). Only the periods that contain those days can change, so
only they are computed again, for every KPI whose current formula already produced the values of
the other periods. A KPI whose formula is new or changed since its values were computed gets the
whole history. ``tests/measurements/test_incremental.py`` checks, over random upload sequences,
that the stored values equal a full recompute.

Every computation runs with ``DUCKDB_THREADS`` threads and ``DUCKDB_MEMORY_LIMIT`` memory
(settings, README's configuration table), so the worker leaves room for the web pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings

from pactboard.engagements.models import Engagement
from pactboard.formulas import CompiledFormula, ParquetFiles, PeriodKind, formula_compute
from pactboard.formulas.bins import period_start
from pactboard.formulas.schema import DatasetSchema
from pactboard.measurements.models import Dataset, DatasetVersion, Revision, Source

__all__ = ["compute_limits", "dataset_values_compute", "kpi_codes_current", "touched_span"]


def compute_limits() -> dict[str, Any]:
    """DuckDB threads, memory and time of one computation (settings DUCKDB_*, FORMULA_TIMEOUT_SECONDS)."""
    return {
        "threads": settings.DUCKDB_THREADS,
        "memory_limit": settings.DUCKDB_MEMORY_LIMIT,
        "timeout": float(settings.FORMULA_TIMEOUT_SECONDS),
    }


def kpi_codes_current(*, engagement: Engagement, dataset: Dataset, compiled: Mapping[str, CompiledFormula]) -> set[str]:
    """The KPIs whose latest computed value came from this dataset with the formula they have now.

    Their other periods already hold what this formula gives; any other KPI is computed whole.
    """
    current = set()
    for code, formula in compiled.items():
        latest = (
            Revision.objects.filter(
                measurement__engagement=engagement, measurement__kpi_code=code, source=Source.FORMULA
            )
            .order_by("-pk")
            .values_list("formula_fingerprint", "dataset_version__dataset_id")
            .first()
        )
        if latest == (formula.fingerprint, dataset.pk):
            current.add(code)
    return current


def touched_span(*, version: DatasetVersion, period_kind: PeriodKind) -> tuple[date, date] | None:
    """The first and last period start the version's upload touched; None when it does not say."""
    if version.upload_first_day is None or version.upload_last_day is None:
        return None
    return period_start(version.upload_first_day, period_kind), period_start(version.upload_last_day, period_kind)


def dataset_values_compute(
    *,
    formulas: Mapping[str, CompiledFormula],
    parquet: ParquetFiles,
    schema: DatasetSchema,
    period_kind: PeriodKind,
    tz: str,
    version: DatasetVersion,
    current: set[str],
) -> dict[str, dict[date, Decimal | None]]:
    """Every formula's values per period: only the periods the upload touched for the ``current`` KPIs."""
    touched = touched_span(version=version, period_kind=period_kind)
    everything: tuple[date | None, date | None] = (None, None)
    parts = [({k: f for k, f in formulas.items() if k not in current}, everything)]
    if touched is not None:
        parts.append(({k: f for k, f in formulas.items() if k in current}, touched))
    else:  # nothing says which days changed: everything is computed again
        parts[0] = (dict(formulas), everything)
    values: dict[str, dict[date, Decimal | None]] = {}
    for part, (period_from, period_to) in parts:
        if part:
            values |= formula_compute(
                formulas=part,
                parquet_paths=parquet.paths,
                filesystem=parquet.filesystem,
                schema=schema,
                period_kind=period_kind,
                tz=tz,
                period_from=period_from,
                period_to=period_to,
                **compute_limits(),
            )
    return values
