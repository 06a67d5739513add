"""Datasets: declared, uploads merged into new versions, and the KPIs that read them computed."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pactboard.accounts.models import Membership
from pactboard.audit.services import audit_record
from pactboard.core.errors import ErrorDetail, PactboardError, invalid
from pactboard.core.locks import for_update
from pactboard.core.periods import Period
from pactboard.core.storage import storage
from pactboard.engagements.models import Engagement
from pactboard.formulas import engine_connect
from pactboard.formulas.schema import COLUMN_TYPES, STANDARD_SCHEMAS
from pactboard.measurements import batches, ingest, policy
from pactboard.measurements.limits import ERRORS_SHOWN, VALUE_LIMIT_TEXT, value_limit_problem
from pactboard.measurements.models import (
    Dataset,
    DatasetVersion,
    ImportBatch,
    Measurement,
    Source,
)
from pactboard.measurements.selectors import (
    dataset_kpis_expected,
    dataset_latest_version,
    dataset_parquet_key,
    datasets_dir,
)
from pactboard.measurements.services.imports import _batch_fail, _batch_progress
from pactboard.measurements.services.values import ApplyResult, ValueRow, _values_apply


def dataset_declare(
    *,
    actor: Membership,
    engagement: Engagement,
    name: str,
    standard: str | None = None,
    columns: list[dict[str, Any]] | None = None,
    time_column: str = "",
    description: str = "",
) -> Dataset:
    """Declare a dataset of raw records: a standard schema (e.g. contacts) or columns of one's own."""
    policy.measurements_require(actor=actor, engagement=engagement, action="declare")
    if standard:
        schema = STANDARD_SCHEMAS.get(standard)
        if schema is None:
            raise invalid(
                f"No standard dataset {standard!r}: use one of {', '.join(sorted(STANDARD_SCHEMAS))}.",
                location="standard",
                code="invalid_choice",
            )
        columns = [
            {"name": c.name, "type": c.type, "nullable": c.nullable, "description": c.description}
            for c in schema.columns
        ]
        time_column = schema.time_column
        description = description or f"Standard {standard} records."
    errors: list[ErrorDetail] = []
    names = [c.get("name", "") for c in columns or []]
    if not columns:
        errors.append(ErrorDetail("Declare at least one column.", "columns", "required"))
    for i, c in enumerate(columns or []):
        if not str(c.get("name", "")).isidentifier():
            errors.append(
                ErrorDetail(
                    f"column names are letters, digits and underscores: {c.get('name')!r}",
                    f"columns[{i}].name",
                    "invalid_column_name",
                )
            )
        if c.get("type") not in COLUMN_TYPES:
            errors.append(
                ErrorDetail(
                    f"unknown type {c.get('type')!r}: use one of {', '.join(COLUMN_TYPES)}",
                    f"columns[{i}].type",
                    "invalid_choice",
                )
            )
    if len(set(names)) != len(names):
        errors.append(ErrorDetail("column names must be unique", "columns", "duplicate_column"))
    if time_column not in names:
        errors.append(
            ErrorDetail(f"the time column {time_column!r} is not one of the columns", "time_column", "unknown_column")
        )
    if Dataset.objects.filter(engagement=engagement, name=name).exists():
        errors.append(ErrorDetail(f"This engagement already has a dataset named {name!r}.", "name", "duplicate_name"))
    if errors:
        raise PactboardError("The dataset could not be declared.", errors)
    with transaction.atomic():
        dataset = Dataset.objects.create(
            engagement=engagement, name=name, columns=columns, time_column=time_column, description=description
        )
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="dataset.declare",
            obj=dataset,
            after={"name": name, "columns": columns, "time_column": time_column},
            engagement_id=engagement.pk,
        )
    return dataset


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    row = con.execute(sql).fetchone()
    if row is None:  # an aggregate query always returns one row
        raise RuntimeError(f"no row from {sql}")
    return tuple(row)


def _merge_versions(
    *, previous: Path | None, upload: Path, time_column: str, tz: str, dest_dir: Path, spill_dir: Path
) -> tuple[str, int, date | None, date | None, date | None, date | None]:
    """Previous records minus the days the upload covers, plus the upload: one new file in the store.

    Returns the new file's SHA-256 (its name) and what it holds. The merge runs on local files (the
    previous version fetched from an object store first) and its result is then stored whole.
    """
    # A new name each time: DuckDB would write over an existing file through a 'tmp_' file, not allowed here.
    tmp = dest_dir / f".merge-{timezone.now().timestamp()}-{uuid.uuid4().hex[:8]}.parquet"
    # The engine's locked-down connection, bounded like the ingest (DuckDB's default would take 80 %
    # of the machine's memory): it reads the two files, writes the merge and nothing else.
    con = engine_connect(
        threads=os.cpu_count() or 1,
        memory_limit="1GB",
        allowed_paths=[str(p) for p in (upload, previous, tmp) if p is not None],
        allowed_directories=[str(spill_dir)],
        options={"temp_directory": str(spill_dir)},
        time_zone=tz,
    )
    try:
        col = '"' + time_column.replace('"', '""') + '"'
        day = f"CAST(timezone('{tz}', {col}) AS DATE)"
        up = f"read_parquet('{upload}')"
        first_up, last_up = _one(con, f"SELECT min({day}), max({day}) FROM {up}")  # noqa: S608
        if previous is not None:
            source_sql = (
                f"SELECT * FROM read_parquet('{previous}') WHERE {day} NOT IN (SELECT DISTINCT {day} FROM {up}) "  # noqa: S608
                f"UNION ALL SELECT * FROM {up}"
            )
        else:
            source_sql = f"SELECT * FROM {up}"  # noqa: S608
        con.execute(f"COPY ({source_sql} ORDER BY {col}) TO '{tmp}' (FORMAT parquet, COMPRESSION zstd)")
        summary = f"SELECT count(*), min({day}), max({day}) FROM read_parquet('{tmp}')"  # noqa: S608
        rows, first, last = _one(con, summary)
    finally:
        con.close()
    sha = ingest.file_sha256(tmp)
    key = f"datasets/{sha}.parquet"
    store = storage()
    try:
        if not store.exists(key):
            store.put_file(key, tmp, move=True)  # atomic: a reader sees the whole file or none
    finally:
        tmp.unlink(missing_ok=True)
    return sha, rows, first, last, first_up, last_up


def dataset_lock(*, dataset_id: int) -> Dataset:
    """Lock a dataset's row for the rest of the transaction: one new version at a time.

    ``FOR NO KEY UPDATE`` on PostgreSQL: it excludes every other writer of the row, but not the
    ``FOR KEY SHARE`` with which PostgreSQL checks, at COMMIT, a new row's foreign key to it. A plain
    ``FOR UPDATE`` blocked the web request that had just recorded an upload of this dataset (its
    import batch points at it) while that request held the engagement's audit lock, which this
    transaction takes next: a deadlock (bench/bench_load.py found it). Other databases lock as usual.
    """
    return for_update(Dataset.objects.all()).get(pk=dataset_id)


def dataset_upload_run(*, batch_id: int) -> ImportBatch:
    """Check an uploaded file of raw records whole; on success make a new dataset version and recompute its KPIs."""
    batch = ImportBatch.objects.select_related("engagement", "dataset", "created_by").get(pk=batch_id)
    if batch.status in (ImportBatch.Status.DONE, ImportBatch.Status.FAILED):
        return batch
    dataset = batch.dataset
    assert dataset is not None
    engagement = batch.engagement
    actor = Membership.objects.select_related("user", "organisation").get(
        user=batch.created_by, organisation=batch.created_by_org
    )
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING, updated_at=timezone.now())
    dest = datasets_dir()
    staging = dest / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    # The checked file waits for the merge in this batch's own folder, removed when the run ends however
    # it ends (the task's guard removes it too, should the worker die).
    own = staging / f"{batches.work_prefix(batch.pk)}staged"
    store = storage()
    try:
        # From an object store the upload is fetched into this host's staging folder first.
        with store.local_file(batch.stored_path, work_dir=staging) as source:
            staged = ingest.dataset_file_ingest(
                source=source,
                fmt=None,
                schema=dataset.schema(),
                dest_dir=own,
                progress=_batch_progress(batch),
                work_prefix=batches.work_prefix(batch.pk),
                timeout=settings.INGEST_TIMEOUT_SECONDS,
            )
        # The slow work (merging the files, computing every KPI in DuckDB) runs before the write
        # transaction, which then only stores the outcome: on SQLite a write transaction locks every
        # tenant's writes, so it must stay short. Should another upload of this dataset land in
        # between, this one is refused (its merge did not include that one) rather than lose it.
        previous = dataset_latest_version(dataset=dataset)
        with (
            store.local_file(dataset_parquet_key(previous), work_dir=staging)
            if previous
            else contextlib.nullcontext(None)
        ) as previous_file:
            sha, rows, first, last, up_first, up_last = _merge_versions(
                previous=previous_file,
                upload=staged.path,
                time_column=dataset.time_column,
                tz=engagement.time_zone,
                dest_dir=dest,
                spill_dir=staging / f"{batches.work_prefix(batch.pk)}merge",
            )
        version = DatasetVersion(
            dataset=dataset,
            number=(previous.number + 1) if previous else 1,
            parquet_sha256=sha,
            row_count=rows,
            first_day=first,
            last_day=last,
            upload_sha256=batch.file_sha256,
            upload_name=batch.file_name,
            upload_rows=staged.row_count,
            upload_first_day=up_first,
            upload_last_day=up_last,
            created_by=actor.user,
        )
        planned = dataset_kpis_plan(version=version, previous=previous)
        with transaction.atomic():
            locked = dataset_lock(dataset_id=dataset.pk)
            latest = dataset_latest_version(dataset=locked)
            if (latest.pk if latest else None) != (previous.pk if previous else None):
                raise PactboardError(
                    f"Another upload of {locked.name} was stored while this file was being checked; "
                    "upload this file again so that it is merged with that one. Nothing was written.",
                    kind="conflict",
                )
            version.dataset = locked
            version.save()
            result = dataset_kpis_apply(plan=planned, actor=actor)
            ImportBatch.objects.filter(pk=batch.pk).update(
                status=ImportBatch.Status.DONE,
                rows_written=staged.row_count,
                message=(
                    f"{staged.row_count} records checked and stored as {locked.name} v{version.number} "
                    f"({rows} records in all); KPI values: {result.summary}."
                ),
                updated_at=timezone.now(),
            )
            audit_record(
                actor=actor.user,
                organisation=actor.organisation,
                action="dataset.upload",
                obj=version,
                after={
                    "dataset": locked.name,
                    "version": version.number,
                    "upload_sha256": batch.file_sha256,
                    "parquet_sha256": sha,
                    "rows": rows,
                    "values_created": result.created,
                    "values_revised": result.revised,
                    "values_undefined": result.undefined,
                },
                engagement_id=engagement.pk,
            )
    except PactboardError as exc:
        _batch_fail(batch, exc)
    finally:
        shutil.rmtree(own, ignore_errors=True)
    batch.refresh_from_db()
    return batch


@dataclass(frozen=True)
class KpisPlan:
    """What a dataset version makes of its KPIs' values, computed and checked, not yet stored."""

    version: DatasetVersion
    rows: list[ValueRow]
    formulas: dict[str, Any]


def dataset_kpis_compute(
    *,
    version: DatasetVersion,
    actor: Membership | None,
    kpi_codes: Collection[str] | None = None,
    period_from: Period | None = None,
    now: datetime | None = None,
    previous: DatasetVersion | None = None,
) -> ApplyResult:
    """Compute the agreed KPIs whose formula reads this dataset version and store their values.

    ``dataset_kpis_plan`` then ``dataset_kpis_apply``: a caller that must keep its write transaction
    short (an upload) runs the plan before opening it.
    """
    plan = dataset_kpis_plan(version=version, kpi_codes=kpi_codes, period_from=period_from, now=now, previous=previous)
    return dataset_kpis_apply(plan=plan, actor=actor)


def dataset_kpis_plan(
    *,
    version: DatasetVersion,
    kpi_codes: Collection[str] | None = None,
    period_from: Period | None = None,
    now: datetime | None = None,
    previous: DatasetVersion | None = None,
) -> KpisPlan:
    """The values of the agreed KPIs whose formula reads this dataset version (all periods begun, or from one).

    A value this version no longer defines (a zero denominator, no records left in the period) gets
    a revision without a value whose note says why: keeping the old number would show a value the
    records in force do not give. Only values computed by formula are touched; one entered by hand
    for a period stays. After ``previous`` (a new upload), KPIs whose values this formula already
    computed are recomputed only in the periods the upload touched (``incremental.py``).
    """
    dataset = version.dataset
    engagement = dataset.engagement
    expected = dataset_kpis_expected(
        version=version, kpi_codes=kpi_codes, period_from=period_from, now=now or timezone.now(), previous=previous
    )
    rows = [
        ValueRow(kpi_code=code, period=period, value=value, location=f"{code} {period.label}")
        for (code, period), value in sorted(expected.values.items())
        if value is not None
    ]
    too_large = [
        ErrorDetail(f"{row.kpi_code} {row.period.label}: {problem}", row.location, "out_of_range")
        for row in rows
        if row.value is not None and (problem := value_limit_problem(row.value)) is not None
    ]
    if too_large:
        raise PactboardError(
            f"KPI values computed from {dataset.name} v{version.number} are too large to store "
            f"(below {VALUE_LIMIT_TEXT} in size); nothing was written: check the records behind them.",
            too_large[:ERRORS_SHOWN],
        )
    defined = {(row.kpi_code, row.period) for row in rows}
    held = Measurement.objects.filter(
        engagement=engagement, kpi_code__in=list(expected.formulas), source=Source.FORMULA, value__isnull=False
    ).values_list("kpi_code", "period_kind", "period_start")
    for code, kind, start in held:
        period = Period(kind, start)  # type: ignore[arg-type]
        if kind != expected.kinds[code] or (code, period) in defined or not expected.covers(period, code):
            continue
        if (code, period) in expected.values:
            why = "the formula divides by zero for this period (no records in its denominator)"
        else:
            why = "no records of the dataset fall in this period"
        rows.append(
            ValueRow(
                kpi_code=code,
                period=period,
                value=None,
                note=f"undefined from {dataset.name} v{version.number}: {why}",
                location=f"{code} {period.label}",
            )
        )
    return KpisPlan(version=version, rows=rows, formulas=expected.formulas)


def dataset_kpis_apply(*, plan: KpisPlan, actor: Membership | None) -> ApplyResult:
    """Store a plan's values (in the caller's transaction; the DuckDB work was done by the plan)."""
    version = plan.version
    return _values_apply(
        engagement=version.dataset.engagement,
        rows=plan.rows,
        source=Source.FORMULA,
        actor=actor,
        reason=f"computed from {version.dataset.name} v{version.number}",
        dataset_version=version,
        formulas=plan.formulas,
        require_reason=False,
    )
