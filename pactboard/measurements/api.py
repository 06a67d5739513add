"""REST endpoints: push a batch of values (idempotent), read values and their history, scorecards."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from ninja import Field, File, Form, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.api import ApiRouter, Mapped, file_answer, mapped, paged
from pactboard.core.errors import ErrorDetail, PactboardError, not_found
from pactboard.core.periods import Period
from pactboard.engagements.selectors import engagement_get
from pactboard.measurements import batches, recompute, selectors, services, tasks
from pactboard.measurements.models import Dataset, ImportBatch, Measurement
from pactboard.measurements.outlook import kpi_outlooks, outlook_as_dict
from pactboard.measurements.records_csv import records_csv

router = ApiRouter(tags=["measurements"])


class ValueIn(Schema):
    kpi: str
    period: str
    value: Decimal
    note: str = ""


class BatchIn(Schema):
    values: list[ValueIn]
    reason: str = ""


class BatchOut(Schema):
    created: int
    revised: int
    unchanged: int


class RevisionOut(Schema):
    number: int
    value: Decimal | None  # null: undefined from the records in force (the note says why)
    source: str
    note: str
    reason: str
    recorded_by: str | None
    recorded_at: datetime
    file_sha256: str
    dataset: str | None
    dataset_version: int | None
    formula: str


class MeasurementOut(Schema):
    id: int
    kpi: str
    period: str
    value: Decimal | None  # null: undefined from the records in force
    source: str
    revisions: list[RevisionOut]


@router.post("/{engagement_id}/measurements", response={200: BatchOut, 201: BatchOut})
def push_values(request: AuthenticatedHttpRequest, engagement_id: int, payload: BatchIn) -> Status:
    """Record a batch of values, all or nothing. Send an `Idempotency-Key` header to make retries safe."""
    membership = request.membership
    engagement = engagement_get(membership=membership, engagement_id=engagement_id)
    key = request.headers.get("Idempotency-Key", "").strip()
    body_hash = hashlib.sha256(json.dumps(payload.dict(), default=str, sort_keys=True).encode()).hexdigest()
    rows, errors = [], []
    for i, v in enumerate(payload.values):
        try:
            period = Period.parse(v.period, location=f"values[{i}].period")
        except PactboardError as exc:
            errors.extend(exc.details or [ErrorDetail(exc.message, f"values[{i}].period", "invalid_period")])
            continue
        rows.append(
            services.ValueRow(kpi_code=v.kpi, period=period, value=v.value, note=v.note, location=f"values[{i}]")
        )
    if errors:
        raise PactboardError("The batch was refused; nothing was written.", errors)
    status, body = services.values_push_idempotent(
        actor=membership, engagement=engagement, rows=rows, reason=payload.reason, key=key, request_sha256=body_hash
    )
    return Status(status, body)


def _measurement_out(m: Measurement) -> dict[str, object]:
    return {
        "id": m.pk,
        "kpi": m.kpi_code,
        "period": Period(m.period_kind, m.period_start).label,  # type: ignore[arg-type]
        "value": m.value,
        "source": m.source,
        "revisions": [
            {
                "number": r.number,
                "value": r.value,
                "source": r.source,
                "note": r.note,
                "reason": r.reason,
                "recorded_by": r.recorded_by.email if r.recorded_by else None,
                "recorded_at": r.recorded_at,
                "file_sha256": r.file_sha256,
                "dataset": r.dataset_version.dataset.name if r.dataset_version else None,
                "dataset_version": r.dataset_version.number if r.dataset_version else None,
                "formula": r.formula,
            }
            for r in m.revisions.all()
        ],
    }


@router.get("/{engagement_id}/measurements", response=list[MeasurementOut])
@paged
def list_values(
    request: AuthenticatedHttpRequest, engagement_id: int, kpi: str | None = None, since: date | None = None
) -> Mapped[Measurement, dict[str, object]]:
    """Values of an engagement (optionally one KPI, periods from ``since``) with every revision and its source."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    return mapped(
        selectors.measurements_with_history(engagement=engagement, kpi_code=kpi, since=since), _measurement_out
    )


@router.get("/{engagement_id}/scorecard")
def get_scorecard(request: AuthenticatedHttpRequest, engagement_id: int, period: str) -> dict[str, object]:
    """The scorecard of one period: each KPI's value, target in force, status and attainment, and the score."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    return selectors.scorecard_as_dict(
        selectors.scorecard_for_period(engagement=engagement, period=Period.parse(period))
    )


class BatchErrorOut(Schema):
    message: str
    location: str | None


class ImportOut(Schema):
    id: int
    kind: str
    status: str
    file_name: str
    file_sha256: str
    progress_done: int
    progress_total: int | None
    rows_written: int
    message: str
    errors: list[BatchErrorOut]


def _import_out(batch: ImportBatch) -> dict[str, object]:
    return {
        "id": batch.pk,
        "kind": batch.kind,
        "status": batch.status,
        "file_name": batch.file_name,
        "file_sha256": batch.file_sha256,
        "progress_done": batch.progress_done,
        "progress_total": batch.progress_total,
        "rows_written": batch.rows_written,
        "message": batch.message,
        "errors": [
            {"message": e.get("message", ""), "location": e.get("location")}
            for e in batches.errors_capped(batch.errors)  # batches stored before the cap may hold millions
        ],
    }


def _receive(
    request: AuthenticatedHttpRequest,
    engagement_id: int,
    upload: UploadedFile,
    kind: str,
    dataset: Dataset | None = None,
) -> ImportBatch:
    membership = request.membership
    engagement = engagement_get(membership=membership, engagement_id=engagement_id)
    return services.import_batch_receive(
        actor=membership, engagement=engagement, kind=kind, upload=upload, dataset=dataset
    )


@router.post("/{engagement_id}/imports", response={202: ImportOut})
def import_values_file(
    request: AuthenticatedHttpRequest, engagement_id: int, file: File[UploadedFile], reason: Form[str] = ""
) -> Status:
    """Send a CSV or XLSX file of values (kpi, period, value, note); checked whole, then all or nothing is written."""
    batch = _receive(request, engagement_id, file, ImportBatch.Kind.VALUES)
    tasks.values_import_task.enqueue(batch.pk, reason)
    batch.refresh_from_db()
    return Status(202, _import_out(batch))


@router.post("/{engagement_id}/datasets/{name}/uploads", response={202: ImportOut})
def upload_records(
    request: AuthenticatedHttpRequest, engagement_id: int, name: str, file: File[UploadedFile]
) -> Status:
    """Send raw records (CSV, Parquet or JSON Lines) for a declared dataset; a good file becomes a new version."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    dataset = selectors.dataset_list(engagement=engagement).filter(name=name).first()
    if dataset is None:
        raise not_found(f"This engagement declares no dataset named {name!r}.")
    batch = _receive(request, engagement_id, file, ImportBatch.Kind.RECORDS, dataset)
    tasks.dataset_upload_task.enqueue(batch.pk)
    batch.refresh_from_db()
    return Status(202, _import_out(batch))


class RecomputeIn(Schema):
    kpi: str = ""
    from_period: str = Field("", alias="from")


@router.post("/{engagement_id}/measurements/recompute", response={202: ImportOut})
def recompute_values(request: AuthenticatedHttpRequest, engagement_id: int, payload: RecomputeIn) -> Status:
    """Recompute KPI values from the datasets in force (managers), optionally one KPI from a period (`2026-10`).

    Runs as a job: follow it at `/imports/{id}` (kind `recompute`, progress per dataset).
    """
    membership = request.membership
    engagement = engagement_get(membership=membership, engagement_id=engagement_id)
    batch = recompute.recompute_start(
        actor=membership, engagement=engagement, kpi_code=payload.kpi, period_from=payload.from_period
    )
    tasks.recompute_task.enqueue(batch.pk)
    batch.refresh_from_db()
    return Status(202, _import_out(batch))


@router.get("/{engagement_id}/imports/{batch_id}", response=ImportOut)
def get_import(request: AuthenticatedHttpRequest, engagement_id: int, batch_id: int) -> dict[str, object]:
    """Where an import stands: progress while it runs; on refusal every error by row and column."""
    batch = selectors.import_batch_get(membership=request.membership, batch_id=batch_id)
    if batch.engagement_id != engagement_id:
        raise not_found("No such import.")
    # A batch whose worker died is failed here, where a client polling it would otherwise wait forever.
    return _import_out(batches.import_batch_recover(batch=batch))


@router.get(
    "/{engagement_id}/measurements/{measurement_id}/records",
    **file_answer("text/csv", description="The records a computed value was computed from, as CSV."),
)
def get_records(request: AuthenticatedHttpRequest, engagement_id: int, measurement_id: int) -> HttpResponse:
    """The exact raw records (CSV) a computed value was computed from."""
    measurement = selectors.measurement_get(membership=request.membership, measurement_id=measurement_id)
    if measurement.engagement_id != engagement_id:
        raise not_found("No such value.")
    found = selectors.measurement_records(measurement=measurement)
    response = HttpResponse(records_csv(found.table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{found.file_name}"'
    return response


class OutlookPeriodOut(Schema):
    period: str
    value: Decimal | None
    target: Decimal | None  # null: no agreed version held the KPI in that period
    status: str | None
    agreement_version: int | None


class ClassificationOut(Schema):
    word: str
    label: str
    reason: str
    periods: int
    window: int
    misses: int
    exceedances: int
    on_target: int
    p_under: float | None
    p_over: float | None


class TrendOut(Schema):
    word: str  # improving / declining / no_trend, read in the KPI's direction
    n: int
    s: int
    var_s: float
    z: float
    p_value: float
    tau: float
    slope: float = Field(description="Sen's slope, in the KPI's unit per period")
    alpha: float


class RunOut(Schema):
    kind: str
    length: int
    first: str
    last: str


class RunsOut(Schema):
    current: RunOut | None
    longest_misses: int
    longest_exceedances: int
    runs: list[RunOut]


class SignalOut(Schema):
    rule: str
    name: str
    wording: str
    period: str
    value: float
    side: str | None


class ControlChartOut(Schema):
    centre: float | None
    sigma: float | None
    reason: str
    signals: list[SignalOut]


class ForecastPointOut(Schema):
    period: str
    reason: str
    milestone_date: str | None
    horizon: int
    mean: float
    lower_80: float
    upper_80: float
    lower_95: float
    upper_95: float
    target: Decimal
    probability_meeting: float


class ForecastOut(Schema):
    method: str
    method_name: str
    model: str
    history_points: int
    filled: int
    last_period: str | None
    points: list[ForecastPointOut]


class OutlookOut(Schema):
    code: str
    name: str
    unit: str
    direction: str
    period_kind: str
    current_period: str
    classification: ClassificationOut
    trend: TrendOut | None
    runs: RunsOut
    control_chart: ControlChartOut
    forecast: ForecastOut | None
    history: list[OutlookPeriodOut]


@router.get("/{engagement_id}/outlook", response=list[OutlookOut])
@paged
def engagement_outlook(
    request: AuthenticatedHttpRequest, engagement_id: int, forecast: bool = True
) -> Mapped[Any, dict[str, object]]:
    """Every KPI in force: trend, classification, runs, control-chart signals and forecast (docs/trends.md)."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    found = kpi_outlooks(engagement=engagement, now=timezone.now(), forecast="best" if forecast else "none")
    return mapped(list(found.values()), outlook_as_dict)


@router.get("/{engagement_id}/kpis/{code}/outlook", response=OutlookOut)
def kpi_outlook(request: AuthenticatedHttpRequest, engagement_id: int, code: str) -> dict[str, object]:
    """One KPI's outlook, as its page shows it: trend, classification, runs, signals and forecast."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    found = kpi_outlooks(engagement=engagement, now=timezone.now(), codes=[code]).get(code)
    if found is None:
        raise not_found("No such KPI in the agreement in force.")
    return outlook_as_dict(found)
