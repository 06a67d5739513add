"""Writes for measurements: values by hand, file and API; dataset uploads; formula computation.

Every way in ends in ``_values_apply``: one transaction, checked whole before anything is
written, a new revision for each changed value (never an overwrite), and one audit event.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from pactboard.accounts.models import Membership
from pactboard.audit.services import audit_record
from pactboard.core.errors import ErrorDetail, PactboardError, invalid
from pactboard.core.files import upload_save
from pactboard.core.periods import Period, local_date
from pactboard.core.uploads import upload_received_check, upload_size_check
from pactboard.engagements.models import Engagement
from pactboard.formulas import CompiledFormula
from pactboard.formulas.schema import COLUMN_TYPES, STANDARD_SCHEMAS
from pactboard.kpis.content import plain_decimal
from pactboard.measurements import batches, ingest, policy
from pactboard.measurements.models import (
    Dataset,
    DatasetVersion,
    IdempotencyKey,
    ImportBatch,
    Measurement,
    Revision,
    Source,
)
from pactboard.measurements.selectors import (
    KpiRule,
    dataset_kpis_expected,
    dataset_latest_version,
    dataset_parquet_path,
    datasets_dir,
    kpi_rules,
)
from pactboard.measurements.value_import import KpiRule as FileRule
from pactboard.measurements.value_import import value_file_parse

ProgressCallback = Callable[[int, int | None], None]


@dataclass(frozen=True)
class ValueRow:
    """One value to record, located where the user can find it (a file line, a batch index, a form)."""

    kpi_code: str
    period: Period
    value: Decimal | None  # None: the value became undefined (only from a recomputation; the note says why)
    note: str = ""
    location: str = ""
    line: int | None = None


@dataclass
class ApplyResult:
    created: int = 0
    revised: int = 0
    unchanged: int = 0
    undefined: int = 0  # of ``revised``: values a recomputation found undefined (recorded as empty)
    revisions: list[Revision] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """How many values were written, for an upload's or a recomputation's message."""
        undefined = f" ({self.undefined} now undefined)" if self.undefined else ""
        return f"{self.created} new values, {self.revised} changed{undefined}, {self.unchanged} unchanged"


def _require_contributor(actor: Membership, engagement: Engagement) -> None:
    policy.measurements_require(actor=actor, engagement=engagement, action="contribute")


def value_rows_not_started(
    *, engagement: Engagement, rows: Sequence[ValueRow], now: datetime | None = None, location: str = "{}.period"
) -> list[ErrorDetail]:
    """A problem for each row whose period has not begun in the engagement's zone.

    A value for a period that has not started is a forecast or a typo (2027-06 for 2026-06); taken as
    a fact it would move every page to that period. ``location`` places the error, from the row's.
    """
    today = local_date(now or timezone.now(), engagement.time_zone)
    return [
        ErrorDetail(
            f"{row.period.label} has not started (it begins on {row.period.start:%Y-%m-%d}, "
            f"{engagement.time_zone}): record a period's value once it has begun; check the year",
            location.format(row.location) if row.location else None,
            "period_not_started",
        )
        for row in rows
        if row.period.start > today
    ]


def value_rows_check(
    *,
    engagement: Engagement,
    rows: Sequence[ValueRow],
    rules: dict[str, KpiRule] | None = None,
    now: datetime | None = None,
) -> list[ErrorDetail]:
    """Every problem of a batch of values, each at its row: unknown KPI, wrong period, out of range, duplicate."""
    rules = kpi_rules(engagement=engagement) if rules is None else rules
    errors: list[ErrorDetail] = value_rows_not_started(engagement=engagement, rows=rows, now=now)
    seen: dict[tuple[str, Period], str] = {}
    for row in rows:
        where = row.location or None
        if row.value is None:  # only a recomputation records "undefined"; a person or a file gives a number
            errors.append(ErrorDetail(f"{row.kpi_code} {row.period.label}: a value is required", where))
            continue
        shown = plain_decimal(row.value)
        rule = rules.get(row.kpi_code)
        if rule is None:
            known = ", ".join(sorted(rules)) or "none agreed yet"
            errors.append(ErrorDetail(f"unknown KPI {row.kpi_code!r} (this engagement's KPIs: {known})", where))
            continue
        if row.period.kind != rule.period_kind:
            errors.append(
                ErrorDetail(
                    f"{row.kpi_code} is measured per {rule.period_kind}, but {row.period.label} is a {row.period.kind}",
                    where,
                )
            )
        if row.period.end <= engagement.start_date or row.period.start > engagement.end_date:
            errors.append(
                ErrorDetail(
                    f"period {row.period.label} is outside the engagement "
                    f"({engagement.start_date:%Y-%m-%d} to {engagement.end_date:%Y-%m-%d})",
                    where,
                )
            )
        if rule.min_value is not None and row.value < rule.min_value:
            errors.append(
                ErrorDetail(
                    f"{shown} is below the lowest value {row.kpi_code} allows ({plain_decimal(rule.min_value)})",
                    where,
                )
            )
        if rule.max_value is not None and row.value > rule.max_value:
            errors.append(
                ErrorDetail(
                    f"{shown} is above the highest value {row.kpi_code} allows ({plain_decimal(rule.max_value)})",
                    where,
                )
            )
        if rule.integer and row.value != row.value.to_integral_value():
            errors.append(ErrorDetail(f"{row.kpi_code} counts whole items: {row.value} is not a whole number", where))
        key = (row.kpi_code, row.period)
        if key in seen:
            errors.append(ErrorDetail(f"{row.kpi_code} {row.period.label} appears twice (also at {seen[key]})", where))
        else:
            seen[key] = row.location or "?"
    return errors


def _values_apply(
    *,
    engagement: Engagement,
    rows: Sequence[ValueRow],
    source: str,
    actor: Membership | None,
    reason: str = "",
    batch: ImportBatch | None = None,
    file_sha256: str = "",
    dataset_version: DatasetVersion | None = None,
    formulas: dict[str, CompiledFormula] | None = None,
    require_reason: bool = True,
) -> ApplyResult:
    """Write a checked batch: new values, or a new revision where a value changed (in the caller's transaction)."""
    result = ApplyResult()
    if not rows:
        return result
    codes = {r.kpi_code for r in rows}
    existing = {
        (m.kpi_code, m.period_kind, m.period_start): m
        for m in Measurement.objects.select_for_update().filter(engagement=engagement, kpi_code__in=codes)
    }
    now = timezone.now()
    changed_without_reason: list[ErrorDetail] = []
    new_measurements: list[Measurement] = []
    pending: list[tuple[Measurement, ValueRow, int]] = []
    updates: list[Measurement] = []
    for row in rows:
        key = (row.kpi_code, row.period.kind, row.period.start)
        m = existing.get(key)
        if m is None and row.value is None:
            continue  # nothing was recorded and nothing can be: there is no history to extend
        if m is None:
            m = Measurement(
                engagement=engagement,
                kpi_code=row.kpi_code,
                period_kind=row.period.kind,
                period_start=row.period.start,
                value=row.value,
                source=source,
                revision_count=1,
                updated_at=now,
            )
            new_measurements.append(m)
            existing[key] = m
            pending.append((m, row, 1))
            result.created += 1
            continue
        if m.value == row.value:
            result.unchanged += 1
            continue
        if require_reason and not reason.strip():
            changed_without_reason.append(
                ErrorDetail(
                    f"{row.kpi_code} {row.period.label} already has the value {plain_decimal(m.value) or 'undefined'}: "
                    "a correction needs a reason",
                    row.location or None,
                )
            )
            continue
        m.value, m.source, m.updated_at = row.value, source, now
        m.revision_count += 1
        updates.append(m)
        pending.append((m, row, m.revision_count))
        result.revised += 1
        result.undefined += row.value is None
    if changed_without_reason:
        raise PactboardError(
            "Some values would change values already recorded; give a reason for the correction. Nothing was written.",
            changed_without_reason,
        )
    Measurement.objects.bulk_create(new_measurements, batch_size=1000)
    Measurement.objects.bulk_update(updates, ["value", "source", "revision_count", "updated_at"], batch_size=1000)
    revisions = []
    for m, row, number in pending:
        compiled = (formulas or {}).get(row.kpi_code)
        revisions.append(
            Revision(
                measurement=m,
                number=number,
                value=row.value,
                source=source,
                note=row.note,
                reason=reason if number > 1 else "",
                recorded_by=actor.user if actor else None,
                recorded_by_org=actor.organisation if actor else None,
                recorded_at=now,
                import_batch=batch,
                file_sha256=file_sha256,
                file_line=row.line,
                dataset_version=dataset_version,
                formula=compiled.expression if compiled else "",
                row_filter=(compiled.row_filter or "") if compiled else "",
                formula_fingerprint=compiled.fingerprint if compiled else "",
            )
        )
    result.revisions = Revision.objects.bulk_create(revisions, batch_size=1000)
    return result


def measurement_record(
    *,
    actor: Membership,
    engagement: Engagement,
    kpi_code: str,
    period: Period,
    value: Decimal,
    note: str = "",
    reason: str = "",
    source: str = Source.MANUAL,
    now: datetime | None = None,
) -> ApplyResult:
    """Record one value by hand; changing a recorded value needs a reason and adds a revision."""
    _require_contributor(actor, engagement)
    row = ValueRow(kpi_code=kpi_code, period=period, value=value, note=note, location="value")
    errors = value_rows_check(engagement=engagement, rows=[row], now=now)
    # One value has one period field: put the "not started" problem there, not on the value.
    errors = [ErrorDetail(e.message, "period", e.code) if e.location == "value.period" else e for e in errors]
    if errors:
        raise PactboardError("The value was not recorded.", errors)
    with transaction.atomic():
        try:
            result = _values_apply(engagement=engagement, rows=[row], source=source, actor=actor, reason=reason)
        except PactboardError as exc:
            raise PactboardError(exc.message, [ErrorDetail(d.message, "reason") for d in exc.details]) from None
        if result.created or result.revised:
            audit_record(
                actor=actor.user,
                organisation=actor.organisation,
                action="measurement.record" if result.created else "measurement.correct",
                object_type="measurements.measurement",
                object_id=result.revisions[0].measurement_id,
                after={"kpi": kpi_code, "period": period.label, "value": value, "reason": reason, "source": source},
                engagement_id=engagement.pk,
            )
    return result


def _store_upload(source: Path, sha256: str, suffix: str) -> str:
    """Keep the file as received, named by its hash, so either party can re-check a value against it."""
    uploads = Path(settings.MEDIA_ROOT)
    uploads.mkdir(parents=True, exist_ok=True)
    target = uploads / f"{sha256}{suffix}"
    if not target.exists():
        tmp = target.with_suffix(target.suffix + ".part")
        shutil.copyfile(source, tmp)
        tmp.replace(target)
    return str(target.relative_to(settings.DATA_DIR))


def import_batch_start(
    *,
    actor: Membership,
    engagement: Engagement,
    kind: str,
    source: Path,
    file_name: str,
    dataset: Dataset | None = None,
) -> ImportBatch:
    """Register a received file (kept by its hash) as a pending import."""
    _require_contributor(actor, engagement)
    upload_size_check(size=source.stat().st_size)
    sha = ingest.file_sha256(source)
    stored = _store_upload(source, sha, Path(file_name).suffix.lower())
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            engagement=engagement,
            kind=kind,
            dataset=dataset,
            file_name=file_name[:255],
            file_sha256=sha,
            stored_path=stored,
            created_by=actor.user,
            created_by_org=actor.organisation,
        )
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="import.receive",
            obj=batch,
            after={"kind": kind, "file": file_name, "sha256": sha},
            engagement_id=engagement.pk,
        )
    return batch


def import_batch_receive(
    *, actor: Membership, engagement: Engagement, kind: str, upload: Any, dataset: Dataset | None = None
) -> ImportBatch:
    """Register an uploaded file (a Django or ninja UploadedFile) as a pending import, like ``import_batch_start``."""
    _require_contributor(actor, engagement)
    upload_received_check(upload)
    with tempfile.TemporaryDirectory(prefix="pactboard-upload-") as tmp:
        path = upload_save(upload, tmp)
        return import_batch_start(
            actor=actor, engagement=engagement, kind=kind, source=path, file_name=path.name, dataset=dataset
        )


def _batch_progress(batch: ImportBatch) -> ProgressCallback:
    def report(done: int, total: int | None) -> None:
        ImportBatch.objects.filter(pk=batch.pk).update(
            progress_done=done, progress_total=total, updated_at=timezone.now()
        )

    return report


def _batch_fail(batch: ImportBatch, exc: PactboardError) -> None:
    batches.import_batch_fail(batch_id=batch.pk, message=exc.message, details=exc.details)


def values_import_run(*, batch_id: int, reason: str = "", now: datetime | None = None) -> ImportBatch:
    """Check a received file of KPI values whole, then write all of it or none of it."""
    batch = ImportBatch.objects.select_related("engagement", "created_by").get(pk=batch_id)
    if batch.status in (ImportBatch.Status.DONE, ImportBatch.Status.FAILED):
        return batch  # safe to run twice
    engagement = batch.engagement
    actor = Membership.objects.select_related("user", "organisation").get(
        user=batch.created_by, organisation=batch.created_by_org
    )
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.RUNNING, updated_at=timezone.now()
    )
    rules = kpi_rules(engagement=engagement)
    path = Path(settings.DATA_DIR) / batch.stored_path
    try:
        parsed = value_file_parse(
            source=path,
            fmt=None,
            kpis={
                code: FileRule(
                    code=code,
                    period_kind=r.period_kind,  # type: ignore[arg-type]
                    min_value=r.min_value,
                    max_value=r.max_value,
                    integer=r.integer,
                )
                for code, r in rules.items()
            },
            first_period_day=engagement.start_date,
            last_period_day=engagement.end_date,
        )
        rows = [
            ValueRow(
                kpi_code=p.kpi_code,
                period=Period(rules[p.kpi_code].period_kind, p.period_start),  # type: ignore[arg-type]
                value=p.value,
                note=p.note or "",
                location=f"row {p.line}",
                line=p.line,
            )
            for p in parsed.rows
        ]
        not_started = value_rows_not_started(engagement=engagement, rows=rows, now=now, location="{}, column period")
        if not_started:
            raise PactboardError("Some rows are for periods that have not started; nothing was written.", not_started)
        with transaction.atomic():
            result = _values_apply(
                engagement=engagement,
                rows=rows,
                source=Source.IMPORT,
                actor=actor,
                reason=reason,
                batch=batch,
                file_sha256=batch.file_sha256,
            )
            ImportBatch.objects.filter(pk=batch.pk).update(
                status=ImportBatch.Status.DONE,
                rows_written=result.created + result.revised,
                progress_done=len(rows),
                progress_total=len(rows),
                message=f"{result.created} new values, {result.revised} corrected, {result.unchanged} unchanged.",
                updated_at=timezone.now(),
            )
            audit_record(
                actor=actor.user,
                organisation=actor.organisation,
                action="import.values",
                obj=batch,
                after={
                    "sha256": batch.file_sha256,
                    "created": result.created,
                    "revised": result.revised,
                    "unchanged": result.unchanged,
                    "reason": reason,
                },
                engagement_id=engagement.pk,
            )
    except PactboardError as exc:
        _batch_fail(batch, exc)
    batch.refresh_from_db()
    return batch


def values_push(
    *,
    actor: Membership,
    engagement: Engagement,
    rows: Sequence[ValueRow],
    reason: str = "",
    now: datetime | None = None,
) -> ApplyResult:
    """Record a batch of values from the API: all or nothing."""
    _require_contributor(actor, engagement)
    errors = value_rows_check(engagement=engagement, rows=rows, now=now)
    if errors:
        raise PactboardError("The batch was refused; nothing was written.", errors)
    with transaction.atomic():
        result = _values_apply(engagement=engagement, rows=rows, source=Source.API, actor=actor, reason=reason)
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="measurement.push",
            object_type="engagements.engagement",
            object_id=engagement.pk,
            after={
                "created": result.created,
                "revised": result.revised,
                "unchanged": result.unchanged,
                "reason": reason,
            },
            engagement_id=engagement.pk,
        )
    return result


def values_push_idempotent(
    *,
    actor: Membership,
    engagement: Engagement,
    rows: Sequence[ValueRow],
    reason: str = "",
    key: str = "",
    request_sha256: str = "",
) -> tuple[int, dict[str, int]]:
    """``values_push`` whose answer is kept under ``key``: a retry of the same batch gets the same answer.

    Returns the HTTP status (201 when something was written, 200 when nothing changed) and the body.
    """
    if key:
        done = IdempotencyKey.objects.filter(organisation_id=actor.organisation_id, key=key).first()
        if done is not None:
            if done.request_sha256 != request_sha256:
                raise PactboardError(
                    "This Idempotency-Key was used for a different batch: use a new key for new data.", kind="conflict"
                )
            return done.status_code, done.response
    with transaction.atomic():
        result = values_push(actor=actor, engagement=engagement, rows=rows, reason=reason)
        body = {"created": result.created, "revised": result.revised, "unchanged": result.unchanged}
        status = 201 if result.created or result.revised else 200
        if key:
            try:
                with transaction.atomic():
                    IdempotencyKey.objects.create(
                        organisation_id=actor.organisation_id,
                        key=key,
                        request_sha256=request_sha256,
                        response=body,
                        status_code=status,
                    )
            except IntegrityError:
                raise PactboardError(
                    "A request with this Idempotency-Key is being processed; retry.", kind="conflict"
                ) from None
    return status, body


# --- datasets -------------------------------------------------------------------------------------


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
        errors.append(ErrorDetail("Declare at least one column.", "columns"))
    for i, c in enumerate(columns or []):
        if not str(c.get("name", "")).isidentifier():
            errors.append(
                ErrorDetail(
                    f"column names are letters, digits and underscores: {c.get('name')!r}", f"columns[{i}].name"
                )
            )
        if c.get("type") not in COLUMN_TYPES:
            errors.append(
                ErrorDetail(
                    f"unknown type {c.get('type')!r}: use one of {', '.join(COLUMN_TYPES)}", f"columns[{i}].type"
                )
            )
    if len(set(names)) != len(names):
        errors.append(ErrorDetail("column names must be unique", "columns"))
    if time_column not in names:
        errors.append(ErrorDetail(f"the time column {time_column!r} is not one of the columns", "time_column"))
    if Dataset.objects.filter(engagement=engagement, name=name).exists():
        errors.append(ErrorDetail(f"This engagement already has a dataset named {name!r}.", "name"))
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
) -> tuple[Path, str, int, date | None, date | None, date | None, date | None]:
    """Previous records minus the days the upload covers, plus the upload: one new content-addressed file."""
    # Bounded like the ingest: DuckDB's default would be 80 % of the machine's memory.
    con = duckdb.connect(config={"memory_limit": "1GB", "temp_directory": str(spill_dir)})
    try:
        con.execute(f"SET TimeZone = '{tz}'")
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
        tmp = dest_dir / f".merge-{timezone.now().timestamp()}.parquet"
        con.execute(f"COPY ({source_sql} ORDER BY {col}) TO '{tmp}' (FORMAT parquet, COMPRESSION zstd)")
        summary = f"SELECT count(*), min({day}), max({day}) FROM read_parquet('{tmp}')"  # noqa: S608
        rows, first, last = _one(con, summary)
    finally:
        con.close()
    sha = ingest.file_sha256(tmp)
    final = dest_dir / f"{sha}.parquet"
    if final.exists():
        tmp.unlink()
    else:
        tmp.replace(final)
    return final, sha, rows, first, last, first_up, last_up


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
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.RUNNING, updated_at=timezone.now()
    )
    dest = datasets_dir()
    try:
        staged = ingest.dataset_file_ingest(
            source=Path(settings.DATA_DIR) / batch.stored_path,
            fmt=None,
            schema=dataset.schema(),
            dest_dir=dest / "staging",
            progress=_batch_progress(batch),
            work_prefix=batches.work_prefix(batch.pk),
        )
        with transaction.atomic():
            locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
            previous = dataset_latest_version(dataset=locked)
            _, sha, rows, first, last, up_first, up_last = _merge_versions(
                previous=dataset_parquet_path(previous) if previous else None,
                upload=staged.path,
                time_column=locked.time_column,
                tz=engagement.time_zone,
                dest_dir=dest,
                spill_dir=dest / "staging" / f"{batches.work_prefix(batch.pk)}merge",
            )
            version = DatasetVersion.objects.create(
                dataset=locked,
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
            result = dataset_kpis_compute(version=version, actor=actor, previous=previous)
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
    batch.refresh_from_db()
    return batch


def dataset_kpis_compute(
    *,
    version: DatasetVersion,
    actor: Membership | None,
    kpi_codes: Collection[str] | None = None,
    period_from: Period | None = None,
    now: datetime | None = None,
    previous: DatasetVersion | None = None,
) -> ApplyResult:
    """Compute the agreed KPIs whose formula reads this dataset version (all periods begun, or from one).

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
    return _values_apply(
        engagement=engagement,
        rows=rows,
        source=Source.FORMULA,
        actor=actor,
        reason=f"computed from {dataset.name} v{version.number}",
        dataset_version=version,
        formulas=expected.formulas,
        require_reason=False,
    )
