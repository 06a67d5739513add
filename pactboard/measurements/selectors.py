"""Reads for measurements, datasets and scorecards. Every query starts from the actor's scope."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from pactboard.accounts.models import Membership
from pactboard.core.errors import PactboardError, not_found
from pactboard.core.periods import Period, PeriodKind, local_date, periods_between
from pactboard.core.storage import storage
from pactboard.engagements.models import Engagement
from pactboard.formulas import CompiledFormula, ParquetFiles, formula_compile, formula_records
from pactboard.formulas.schema import STANDARD_SCHEMAS, DatasetSchema
from pactboard.kpis.content import plain_decimal
from pactboard.kpis.models import AgreementVersion, VersionKpi
from pactboard.kpis.selectors import version_in_force, version_terms
from pactboard.measurements.availability import availability_entry, availability_values
from pactboard.measurements.incremental import dataset_values_compute, kpi_codes_current, touched_span
from pactboard.measurements.models import Dataset, DatasetVersion, ImportBatch, Measurement, Revision
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
    unit: str = ""  # how the value is shown (docs/formatting.md); the checks above do not need it
    target: Decimal | None = None  # for examples (the import page); the checks above do not need it


def kpi_rules(*, engagement: Engagement) -> dict[str, KpiRule]:
    """Every KPI code of the engagement's agreed versions, defined by the newest version that has it."""
    rules: dict[str, KpiRule] = {}
    kpis = (
        VersionKpi.objects.filter(version__engagement=engagement, version__status=AgreementVersion.Status.AGREED)
        .order_by("-version__number")
        .values(
            "code",
            "name",
            "period",
            "min_value",
            "max_value",
            "unit",
            "source",
            "dataset",
            "formula",
            "row_filter",
            "target",
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
            unit=k["unit"],
            target=k["target"],
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
    dataset = Dataset.objects.visible_to(membership).filter(pk=dataset_id).select_related("engagement").first()
    if dataset is None:
        raise not_found("No such dataset.")
    return dataset


def datasets_dir() -> Path:
    """This host's dataset work folder (ingest staging, merges); the versions themselves are in ``storage()``."""
    path = Path(settings.DATASETS_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def dataset_parquet_key(version: DatasetVersion) -> str:
    """The storage key of a dataset version's Parquet file (named by its SHA-256)."""
    return f"datasets/{version.parquet_sha256}.parquet"


def dataset_parquet_path(version: DatasetVersion) -> Path:
    """Where a dataset version's Parquet file is in the data dir (stored there unless an object store is set)."""
    return datasets_dir() / f"{version.parquet_sha256}.parquet"


def dataset_parquet_files(version: DatasetVersion) -> ParquetFiles:
    """How DuckDB reaches a dataset version's file: a local path, or a path on the object store's filesystem."""
    path, filesystem = storage().arrow(dataset_parquet_key(version))
    return ParquetFiles(paths=(path,), filesystem=filesystem)


def dataset_latest_version(*, dataset: Dataset) -> DatasetVersion | None:
    return dataset.versions.order_by("-number").first()


def dataset_versions_in_force(*, engagement: Engagement) -> dict[str, DatasetVersion]:
    """Each dataset's newest version by dataset name: the records values must agree with."""
    out: dict[str, DatasetVersion] = {}
    for v in (
        DatasetVersion.objects.filter(dataset__engagement=engagement)
        .select_related("dataset")
        .order_by("dataset_id", "-number")
    ):
        out.setdefault(v.dataset.name, v)
    return out


@dataclass(frozen=True)
class ExpectedValues:
    """What a dataset version gives for the agreed KPIs that read it, in the periods that may hold values."""

    version: DatasetVersion
    formulas: dict[str, CompiledFormula]
    kinds: dict[str, str]
    first_day: date  # periods that end after it ...
    last_day: date  # ... and start on or before it (the engagement's end, or today: no future periods)
    period_from: Period | None = None
    # (code, period) -> value; None where the period has records but the formula is undefined.
    values: dict[tuple[str, Period], Decimal | None] = field(default_factory=dict)
    # code -> (first, last) period start: KPIs recomputed only where the new upload's days fall.
    touched: dict[str, tuple[date, date]] = field(default_factory=dict)

    def covers(self, period: Period, code: str | None = None) -> bool:
        """Whether a period is one a recomputation may write: begun, within the engagement, from ``period_from``,
        and, for a KPI recomputed incrementally, among the periods the upload touched."""
        after = self.period_from is None or period.start >= self.period_from.start
        touched = self.touched.get(code or "")
        within = touched is None or touched[0] <= period.start <= touched[1]
        return period.end > self.first_day and period.start <= self.last_day and after and within


def dataset_kpis_expected(
    *,
    version: DatasetVersion,
    now: datetime,
    kpi_codes: Collection[str] | None = None,
    period_from: Period | None = None,
    previous: DatasetVersion | None = None,
) -> ExpectedValues:
    """Every value the agreed dataset KPIs reading ``version`` take, one DuckDB pass per period kind.

    Periods not yet begun are left out (a value for them is refused however it arrives). After
    ``previous``, a KPI whose stored values this formula computed from this dataset is computed
    only in the periods the new upload touched (``incremental.py``); every other KPI whole.
    """
    dataset = version.dataset
    engagement = dataset.engagement
    schema = dataset.schema()
    rules = [
        r
        for r in kpi_rules(engagement=engagement).values()
        if r.source == "dataset" and r.dataset == dataset.name and (kpi_codes is None or r.code in kpi_codes)
    ]
    expected = ExpectedValues(
        version=version,
        formulas={
            r.code: formula_compile(expression=r.formula, schema=schema, row_filter=r.row_filter or None) for r in rules
        },
        kinds={r.code: r.period_kind for r in rules},
        first_day=engagement.start_date,
        last_day=min(engagement.end_date, local_date(now, engagement.time_zone)),
        period_from=period_from,
    )
    current = (
        kpi_codes_current(engagement=engagement, dataset=dataset, compiled=expected.formulas) if previous else set()
    )
    for kind in sorted(set(expected.kinds.values())):
        kind_codes = {code: f for code, f in expected.formulas.items() if expected.kinds[code] == kind}
        computed = dataset_values_compute(
            formulas=kind_codes,
            parquet=dataset_parquet_files(version),
            schema=schema,
            period_kind=cast(PeriodKind, kind),
            tz=engagement.time_zone,
            version=version,
            current=current,
        )
        span = touched_span(version=version, period_kind=cast(PeriodKind, kind))
        if span is not None:
            expected.touched.update(dict.fromkeys(current & set(kind_codes), span))
        for code, by_period in computed.items():
            for start, value in by_period.items():
                period = Period(cast(PeriodKind, kind), start)
                if expected.covers(period, code):
                    expected.values[(code, period)] = value
    _availability_derive(expected=expected, rules=rules, now=now)
    return expected


def _availability_derive(*, expected: ExpectedValues, rules: list[KpiRule], now: datetime) -> None:
    """Availability KPIs' values replace their formula's: every begun period, outages clipped to it.

    Recomputed whole after every upload (an outage reaches into periods its start does not name),
    and a period without outages is fully available, so every covered period gets a value.
    """
    entries = {r.code: e for r in rules if (e := availability_entry(code=r.code, dataset=r.dataset))}
    if not entries:
        return
    engagement = expected.version.dataset.engagement
    for code in entries:
        expected.touched.pop(code, None)
        for key in [key for key in expected.values if key[0] == code]:
            del expected.values[key]
    for kind in sorted({expected.kinds[code] for code in entries}):
        kind_entries = {code: e for code, e in entries.items() if expected.kinds[code] == kind}
        periods = [
            p
            for p in periods_between(cast(PeriodKind, kind), expected.first_day, expected.last_day)
            if any(expected.covers(p, code) for code in kind_entries)
        ]
        derived = availability_values(
            entries=kind_entries,
            formulas=expected.formulas,
            parquet=dataset_parquet_files(expected.version),
            periods=periods,
            tz=engagement.time_zone,
            now=now,
        )
        for code, by_period in derived.items():
            for period, value in by_period.items():
                if expected.covers(period, code):
                    expected.values[(code, period)] = value


def import_batch_get(*, membership: Membership | None, batch_id: int) -> ImportBatch:
    batch = (
        ImportBatch.objects.visible_to(membership).filter(pk=batch_id).select_related("engagement", "dataset").first()
    )
    if batch is None:
        raise not_found("No such import.")
    return batch


def measurement_label(m: Measurement) -> str:
    """The label of a stored value's period (``2026-10``)."""
    return Period(cast(PeriodKind, m.period_kind), m.period_start).label


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


def measurements_with_history(
    *, engagement: Engagement, kpi_code: str | None = None, since: date | None = None
) -> QuerySet[Measurement]:
    """Values with their revisions (and the dataset versions behind them) in three queries.

    ``since`` keeps the periods that start on or after that day.
    """
    qs = Measurement.objects.filter(engagement=engagement)
    if kpi_code:
        qs = qs.filter(kpi_code=kpi_code)
    if since is not None:
        qs = qs.filter(period_start__gte=since)
    return qs.order_by("kpi_code", "period_start").prefetch_related(
        Prefetch(
            "revisions",
            queryset=Revision.objects.select_related("recorded_by", "dataset_version__dataset").order_by("number"),
        )
    )


def measurement_values(*, engagement: Engagement, period_kind: str, period_start: date) -> dict[str, Decimal | None]:
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
    files = dataset_parquet_files(version)
    table = formula_records(
        formula=compiled,
        parquet_paths=files.paths,
        filesystem=files.filesystem,
        schema=schema,
        period_kind=cast(PeriodKind, measurement.period_kind),
        tz=measurement.engagement.time_zone,
        period_start=measurement.period_start,
    )
    name = f"{measurement.kpi_code}-{measurement_label(measurement)}-{version.dataset.name}-v{version.number}.csv"
    return ValueRecords(table=table, file_name=name)
