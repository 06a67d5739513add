"""Reads for measurements, datasets and scorecards. Every query starts from the actor's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from pactboard.accounts.models import Membership
from pactboard.core.errors import PactboardError, not_found
from pactboard.core.periods import Period, PeriodKind
from pactboard.engagements.models import Engagement
from pactboard.kpis.content import plain_decimal
from pactboard.kpis.models import AgreementVersion, VersionKpi
from pactboard.kpis.selectors import version_in_force, version_terms
from pactboard.measurements.formulas import formula_compile, formula_compute, formula_records
from pactboard.measurements.models import Dataset, DatasetVersion, ImportBatch, Measurement, Revision
from pactboard.measurements.schema import STANDARD_SCHEMAS, DatasetSchema
from pactboard.measurements.value_import import value_file_values_by_line
from pactboard.scoring import Scorecard, scorecard_compute


@dataclass(frozen=True)
class KpiRule:
    """What a KPI accepts as a value: its period kind and range (from its newest agreed definition)."""

    code: str
    name: str
    period_kind: str
    min_value: Decimal | None
    max_value: Decimal | None
    integer: bool
    source: str
    dataset: str
    formula: str
    row_filter: str


def kpi_rules(*, engagement: Engagement) -> dict[str, KpiRule]:
    """Every KPI code of the engagement's agreed versions, defined by the newest version that has it."""
    rules: dict[str, KpiRule] = {}
    kpis = (
        VersionKpi.objects.filter(version__engagement=engagement, version__status=AgreementVersion.Status.AGREED)
        .order_by("-version__number")
        .values(
            "code", "name", "period", "min_value", "max_value", "unit", "source", "dataset", "formula", "row_filter"
        )
    )
    for k in kpis:
        if k["code"] in rules:
            continue
        rules[k["code"]] = KpiRule(
            code=k["code"],
            name=k["name"],
            period_kind=k["period"],
            min_value=k["min_value"],
            max_value=k["max_value"],
            integer=k["unit"] == "count",
            source=k["source"],
            dataset=k["dataset"],
            formula=k["formula"],
            row_filter=k["row_filter"],
        )
    return rules


def dataset_schema_for(*, engagement: Engagement | None, name: str) -> DatasetSchema | None:
    """The schema of dataset ``name``: the engagement's own declaration, else the standard one of that name."""
    if engagement is not None and engagement.pk is not None:
        declared = Dataset.objects.filter(engagement=engagement, name=name).first()
        if declared is not None:
            return declared.schema()
    return STANDARD_SCHEMAS.get(name)


def dataset_list(*, engagement: Engagement) -> QuerySet[Dataset]:
    return Dataset.objects.filter(engagement=engagement).prefetch_related(
        Prefetch("versions", queryset=DatasetVersion.objects.order_by("-number"))
    )


def dataset_get(*, membership: Membership | None, dataset_id: int) -> Dataset:
    dataset = (
        Dataset.objects.filter(engagement__in=Engagement.objects.visible_to(membership), pk=dataset_id)
        .select_related("engagement")
        .first()
    )
    if dataset is None:
        raise not_found("No such dataset.")
    return dataset


def datasets_dir() -> Path:
    path = Path(settings.DATASETS_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def dataset_parquet_path(version: DatasetVersion) -> Path:
    """Where a dataset version's Parquet file is (named by its SHA-256)."""
    return datasets_dir() / f"{version.parquet_sha256}.parquet"


def dataset_latest_version(*, dataset: Dataset) -> DatasetVersion | None:
    return dataset.versions.order_by("-number").first()


def import_batch_get(*, membership: Membership | None, batch_id: int) -> ImportBatch:
    batch = (
        ImportBatch.objects.filter(engagement__in=Engagement.objects.visible_to(membership), pk=batch_id)
        .select_related("engagement", "dataset")
        .first()
    )
    if batch is None:
        raise not_found("No such import.")
    return batch


def measurement_get(*, membership: Membership | None, measurement_id: int) -> Measurement:
    measurement = (
        Measurement.objects.visible_to(membership).select_related("engagement").filter(pk=measurement_id).first()
    )
    if measurement is None:
        raise not_found("No such value.")
    return measurement


def measurement_history(*, measurement: Measurement) -> QuerySet[Revision]:
    """Every revision of a value, newest first, with who recorded it and where it came from."""
    return measurement.revisions.select_related(
        "recorded_by", "recorded_by_org", "dataset_version__dataset", "import_batch"
    ).order_by("-number")


def measurements_with_history(*, engagement: Engagement, kpi_code: str | None = None) -> QuerySet[Measurement]:
    """Values with their revisions (and the dataset versions behind them) in three queries."""
    qs = Measurement.objects.filter(engagement=engagement)
    if kpi_code:
        qs = qs.filter(kpi_code=kpi_code)
    return qs.order_by("kpi_code", "period_start").prefetch_related(
        Prefetch(
            "revisions",
            queryset=Revision.objects.select_related("recorded_by", "dataset_version__dataset").order_by("number"),
        )
    )


def measurement_values(*, engagement: Engagement, period_kind: str, period_start: date) -> dict[str, Decimal]:
    return dict(
        Measurement.objects.filter(
            engagement=engagement, period_kind=period_kind, period_start=period_start
        ).values_list("kpi_code", "value")
    )


@dataclass(frozen=True)
class EngagementScorecard:
    engagement: Engagement
    period: Period
    version: AgreementVersion | None
    scorecard: Scorecard | None


def scorecard_for_period(*, engagement: Engagement, period: Period) -> EngagementScorecard:
    """Each KPI of the version in force on the period's first day against its target in force, and the score."""
    version = version_in_force(engagement=engagement, on=period.start)
    if version is None:
        return EngagementScorecard(engagement, period, None, None)
    terms = [t for t in version_terms(version=version)]
    kinds = dict(VersionKpi.objects.filter(version=version).values_list("code", "period"))
    # A KPI is scored in the periods of its own kind; the scorecard's period picks the matching ones.
    terms = [t for t in terms if kinds.get(t.code) == period.kind]
    values: dict[str, Decimal | None] = dict.fromkeys((t.code for t in terms), None)
    stored = measurement_values(engagement=engagement, period_kind=period.kind, period_start=period.start)
    for code in values:
        values[code] = stored.get(code)
    card = scorecard_compute(terms=terms, values=values, period_last_day=period.last_day)
    return EngagementScorecard(engagement, period, version, card)


@dataclass(frozen=True)
class Mismatch:
    kpi_code: str
    period: str
    stored: Decimal | None
    recomputed: Decimal | None
    source: str
    detail: str


def _label(m: Measurement) -> str:
    return Period(cast(PeriodKind, m.period_kind), m.period_start).label


def measurements_verify(*, engagement: Engagement) -> tuple[int, list[Mismatch]]:
    """Recompute every value from its recorded source; return how many were checked and each mismatch.

    Computed values are recomputed from the dataset version and formula their revision names;
    imported values are read again from the kept file; every value must equal its latest revision.
    """
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
                    _label(m),
                    m.value,
                    last.value if last else None,
                    m.source,
                    "the value differs from its latest revision",
                )
            )
    # Formula values: one recomputation per (dataset version, formula, period kind).
    groups: dict[tuple[int, str, str, str, str], list[Revision]] = {}
    files: dict[str, list[Revision]] = {}
    for rev in latest.values():
        if rev.dataset_version_id and rev.formula:
            key = (
                rev.dataset_version_id,
                rev.formula,
                rev.row_filter,
                rev.measurement.period_kind,
                rev.formula_fingerprint,
            )
            groups.setdefault(key, []).append(rev)
        elif rev.import_batch is not None and rev.file_line:
            files.setdefault(rev.import_batch.stored_path, []).append(rev)
    for (_, expression, row_filter, kind, fingerprint), revs in groups.items():
        version = revs[0].dataset_version
        assert version is not None
        schema = version.dataset.schema()
        compiled = formula_compile(expression=expression, schema=schema, row_filter=row_filter or None)
        if compiled.fingerprint != fingerprint:
            for rev in revs:
                mismatches.append(
                    Mismatch(
                        rev.measurement.kpi_code,
                        _label(rev.measurement),
                        rev.value,
                        None,
                        rev.source,
                        "the stored formula does not match its fingerprint",
                    )
                )
            continue
        result = formula_compute(
            formulas={"v": compiled},
            parquet_paths=[dataset_parquet_path(version)],
            schema=schema,
            period_kind=cast(PeriodKind, kind),
            tz=engagement.time_zone,
        )["v"]
        for rev in revs:
            again = result.get(rev.measurement.period_start)
            if again != rev.value:
                mismatches.append(
                    Mismatch(
                        rev.measurement.kpi_code,
                        _label(rev.measurement),
                        rev.value,
                        again,
                        rev.source,
                        f"recomputed from {version.dataset.name} v{version.number} by {expression}",
                    )
                )
    for stored_path, revs in files.items():
        by_line = value_file_values_by_line(source=Path(settings.DATA_DIR) / stored_path)
        file_name = revs[0].import_batch.file_name if revs[0].import_batch else stored_path
        for rev in revs:
            again = by_line.get(rev.file_line or 0)
            if again != rev.value:
                mismatches.append(
                    Mismatch(
                        rev.measurement.kpi_code,
                        _label(rev.measurement),
                        rev.value,
                        again,
                        rev.source,
                        f"line {rev.file_line} of the imported file {file_name} says {again}",
                    )
                )
    return len(measurements), mismatches


def scorecard_as_dict(card: EngagementScorecard) -> dict[str, Any]:
    """The scorecard in the documented JSON shape (also served by the API)."""
    sc = card.scorecard
    return {
        "engagement": card.engagement.name,
        "engagement_id": card.engagement.pk,
        "period": card.period.label,
        "agreement_version": card.version.number if card.version else None,
        "score": plain_decimal(sc.score) if sc else None,
        "status_score": plain_decimal(sc.status_score) if sc else None,
        "coverage": plain_decimal(sc.coverage) if sc else None,
        "kpis": [
            {
                "code": r.code,
                "value": plain_decimal(r.value),
                "target": plain_decimal(r.target),
                "amber": plain_decimal(r.amber),
                "stretch": plain_decimal(r.stretch),
                "status": r.status,
                "attainment": plain_decimal(r.attainment),
                "weight": plain_decimal(r.weight),
                "milestone_date": r.milestone_date.isoformat() if r.milestone_date else None,
            }
            for r in (sc.results if sc else ())
        ],
    }


@dataclass(frozen=True)
class ValueRecords:
    table: Any  # pyarrow.Table of the exact records the formula read
    file_name: str


def measurement_records(*, measurement: Measurement) -> ValueRecords:
    """The exact records behind a computed value, from the dataset version and formula its revision names."""
    latest = measurement_history(measurement=measurement).first()
    if latest is None or latest.dataset_version is None or not latest.formula:
        raise not_found("This value was not computed from a dataset: it has no records behind it.")
    version = latest.dataset_version
    schema = version.dataset.schema()
    compiled = formula_compile(expression=latest.formula, schema=schema, row_filter=latest.row_filter or None)
    if compiled.fingerprint != latest.formula_fingerprint:
        raise PactboardError(
            "The stored formula does not match its fingerprint: run `pactboard measurements verify`.", kind="conflict"
        )
    table = formula_records(
        formula=compiled,
        parquet_paths=[dataset_parquet_path(version)],
        schema=schema,
        period_kind=cast(PeriodKind, measurement.period_kind),
        tz=measurement.engagement.time_zone,
        period_start=measurement.period_start,
    )
    name = f"{measurement.kpi_code}-{_label(measurement)}-{version.dataset.name}-v{version.number}.csv"
    return ValueRecords(table=table, file_name=name)
