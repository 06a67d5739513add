"""``pactboard measurements verify``: every stored value recomputed from its source and compared.

Computed values are recomputed by their formula from the dataset version in force; imported values
are read again from the kept file; every value must equal its latest revision (docs/measurements.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import cast

from django.utils import timezone

from pactboard.core.periods import PeriodKind
from pactboard.core.storage import storage
from pactboard.engagements.models import Engagement
from pactboard.formulas import formula_compile, formula_compute
from pactboard.measurements.incremental import compute_limits
from pactboard.measurements.models import Measurement, Revision
from pactboard.measurements.selectors import (
    dataset_kpis_expected,
    dataset_parquet_files,
    dataset_versions_in_force,
    measurement_label,
)
from pactboard.measurements.value_import import value_file_values_by_line


@dataclass(frozen=True)
class Mismatch:
    kpi_code: str
    period: str
    stored: Decimal | None
    recomputed: Decimal | None
    source: str
    detail: str


def _mismatch(rev: Revision, again: Decimal | None, why: str) -> Mismatch:
    """A stored revision whose source now gives ``again`` instead."""
    return Mismatch(rev.measurement.kpi_code, measurement_label(rev.measurement), rev.value, again, rev.source, why)


def measurements_verify(*, engagement: Engagement, now: datetime | None = None) -> tuple[int, list[Mismatch]]:
    """Recompute every value from its source as it stands; return how many were checked and each mismatch.

    Computed values are recomputed by the formula their revision names from the dataset version in
    force (the newest): a value left over from an older version is a mismatch, and so is a value
    the records in force give that nobody recorded. Imported values are read again from the kept
    file; every value must equal its latest revision.
    """
    now = now or timezone.now()
    mismatches: list[Mismatch] = []
    latest: dict[int, Revision] = {}
    for rev in (
        Revision.objects.filter(measurement__engagement=engagement)
        .select_related("measurement", "dataset_version__dataset", "import_batch")
        .order_by("measurement_id", "number")
    ):
        latest[rev.measurement_id] = rev
    measurements = list(Measurement.objects.filter(engagement=engagement))
    for m in measurements:
        last = latest.get(m.pk)
        if last is None or last.value != m.value:
            mismatches.append(
                Mismatch(
                    m.kpi_code,
                    measurement_label(m),
                    m.value,
                    last.value if last else None,
                    m.source,
                    "the value differs from its latest revision",
                )
            )
    in_force = dataset_versions_in_force(engagement=engagement)
    # Formula values: one recomputation per (dataset, formula, period kind), from the version in force.
    groups: dict[tuple[str, str, str, str, str], list[Revision]] = {}
    files: dict[str, list[Revision]] = {}
    for rev in latest.values():
        if rev.dataset_version is not None and rev.formula:
            key = (
                rev.dataset_version.dataset.name,
                rev.formula,
                rev.row_filter,
                rev.measurement.period_kind,
                rev.formula_fingerprint,
            )
            groups.setdefault(key, []).append(rev)
        elif rev.import_batch is not None and rev.file_line:
            files.setdefault(rev.import_batch.stored_path, []).append(rev)
    for (name, expression, row_filter, kind, fingerprint), revs in groups.items():
        version = in_force[name]
        schema = version.dataset.schema()
        compiled = formula_compile(expression=expression, schema=schema, row_filter=row_filter or None)
        if compiled.fingerprint != fingerprint:
            for rev in revs:
                mismatches.append(
                    Mismatch(
                        rev.measurement.kpi_code,
                        measurement_label(rev.measurement),
                        rev.value,
                        None,
                        rev.source,
                        "the stored formula does not match its fingerprint",
                    )
                )
            continue
        parquet = dataset_parquet_files(version)
        result = formula_compute(
            formulas={"v": compiled},
            parquet_paths=parquet.paths,
            filesystem=parquet.filesystem,
            schema=schema,
            period_kind=cast(PeriodKind, kind),
            tz=engagement.time_zone,
            **compute_limits(),
        )["v"]
        why = f"recomputed from {name} v{version.number} (in force) by {expression}"
        mismatches += [
            _mismatch(rev, again, why)
            for rev in revs
            if (again := result.get(rev.measurement.period_start)) != rev.value
        ]
    held = {(m.kpi_code, m.period_kind, m.period_start) for m in measurements}
    for name, version in in_force.items():
        expected = dataset_kpis_expected(version=version, now=now)
        for (code, period), value in sorted(expected.values.items()):
            if value is not None and (code, period.kind, period.start) not in held:
                mismatches.append(
                    Mismatch(
                        code,
                        period.label,
                        None,
                        value,
                        "formula",
                        f"no value recorded, though {name} v{version.number} gives one: "
                        "run `pactboard measurements recompute`",
                    )
                )
    for stored_path, revs in files.items():
        with storage().local_file(stored_path) as source:
            by_line = value_file_values_by_line(source=source)
        file_name = revs[0].import_batch.file_name if revs[0].import_batch else stored_path
        mismatches += [
            _mismatch(rev, again, f"line {rev.file_line} of the imported file {file_name} says {again}")
            for rev in revs
            if (again := by_line.get(rev.file_line or 0)) != rev.value
        ]
    return len(measurements), mismatches
