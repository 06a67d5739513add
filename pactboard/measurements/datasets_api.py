"""REST endpoints for datasets of raw records: list, declare, and each one's versions.

Uploading records is ``POST /api/engagements/{id}/datasets/{name}/uploads`` (measurements/api.py).
The same services and rules as the "Data" page: managers and contributors of either party declare.
"""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema
from ninja.responses import Status

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.api import ApiRouter, Mapped, mapped, paged
from pactboard.core.errors import not_found
from pactboard.engagements.selectors import engagement_get
from pactboard.measurements.models import Dataset, DatasetVersion
from pactboard.measurements.selectors import dataset_list
from pactboard.measurements.services import dataset_declare

router = ApiRouter(tags=["datasets"])


class ColumnIn(Schema):
    name: str = Field(max_length=64)
    type: str = Field(max_length=16)
    nullable: bool = True
    description: str = Field(default="", max_length=500)


class DatasetIn(Schema):
    """A standard schema by name (``standard``), or columns of one's own with their time column."""

    name: str = Field(max_length=48, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    standard: str | None = Field(default=None, max_length=48)
    columns: list[ColumnIn] | None = Field(default=None, max_length=200)
    time_column: str = Field(default="", max_length=64)
    description: str = Field(default="", max_length=10_000)


class ColumnOut(Schema):
    name: str
    type: str
    nullable: bool = True
    description: str = ""


class DatasetVersionOut(Schema):
    number: int
    row_count: int
    first_day: date | None
    last_day: date | None
    upload_name: str
    upload_rows: int
    upload_sha256: str
    parquet_sha256: str
    created_at: datetime


class DatasetOut(Schema):
    id: int
    name: str
    description: str
    time_column: str
    columns: list[ColumnOut]
    versions: int
    latest: DatasetVersionOut | None


def _version_out(v: DatasetVersion) -> DatasetVersionOut:
    return DatasetVersionOut(
        number=v.number,
        row_count=v.row_count,
        first_day=v.first_day,
        last_day=v.last_day,
        upload_name=v.upload_name,
        upload_rows=v.upload_rows,
        upload_sha256=v.upload_sha256,
        parquet_sha256=v.parquet_sha256,
        created_at=v.created_at,
    )


def _dataset_out(d: Dataset, versions: list[DatasetVersion]) -> DatasetOut:
    return DatasetOut(
        id=d.pk,
        name=d.name,
        description=d.description,
        time_column=d.time_column,
        columns=[ColumnOut(**c) for c in d.columns],
        versions=len(versions),
        latest=_version_out(versions[0]) if versions else None,
    )


@router.get("/{engagement_id}/datasets", response=list[DatasetOut])
@paged
def list_datasets(request: AuthenticatedHttpRequest, engagement_id: int) -> Mapped[Dataset, DatasetOut]:
    """The engagement's declared datasets, by name, each with its newest version."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    return mapped(
        dataset_list(engagement=engagement).order_by("name"), lambda d: _dataset_out(d, list(d.versions.all()))
    )


@router.post("/{engagement_id}/datasets", response={201: DatasetOut})
def declare_dataset(request: AuthenticatedHttpRequest, engagement_id: int, payload: DatasetIn) -> Status:
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    columns = [c.dict() for c in payload.columns] if payload.columns is not None else None
    dataset = dataset_declare(
        actor=request.membership,
        engagement=engagement,
        name=payload.name,
        standard=payload.standard,
        columns=columns,
        time_column=payload.time_column,
        description=payload.description,
    )
    return Status(201, _dataset_out(dataset, []))


@router.get("/{engagement_id}/datasets/{name}/versions", response=list[DatasetVersionOut])
@paged
def list_dataset_versions(
    request: AuthenticatedHttpRequest, engagement_id: int, name: str
) -> Mapped[DatasetVersion, DatasetVersionOut]:
    """A dataset's versions, newest first, a page at a time."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    dataset = Dataset.objects.filter(engagement=engagement, name=name).first()
    if dataset is None:
        raise not_found("No such dataset.")
    return mapped(DatasetVersion.objects.filter(dataset=dataset).order_by("-number"), _version_out)
