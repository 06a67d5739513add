"""Measured values with their revisions and provenance, value imports, and datasets of raw records.

A value is never overwritten: a correction adds a revision with a reason. A computed value
records the dataset version and the formula version (fingerprint) that produced it, so either
party can recompute it and download the exact records behind it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from pactboard.core.models import TimeStampedModel
from pactboard.core.tenancy import TenantQuerySet
from pactboard.engagements.models import Engagement
from pactboard.formulas.schema import Column, DatasetSchema


class ImmutableError(Exception):
    """Raised when code tries to change a stored revision or dataset version."""


class Source(models.TextChoices):
    MANUAL = "manual", "Entered by hand"
    IMPORT = "import", "Imported from a file"
    API = "api", "Pushed through the API"
    FORMULA = "formula", "Computed by formula"


class DatasetQuerySet(TenantQuerySet["Dataset"]):
    engagement_path = "engagement"


class Dataset(TimeStampedModel):
    """A declared set of raw records of an engagement: name, columns and types, and the time column."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="datasets")
    name = models.SlugField(max_length=48)
    description = models.TextField(blank=True)
    columns = models.JSONField(help_text='[{"name": ..., "type": ..., "nullable": ...}, ...]')
    time_column = models.CharField(max_length=64)

    objects = DatasetQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "name"]
        constraints = [models.UniqueConstraint(fields=["engagement", "name"], name="dataset_name_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.engagement})"

    def schema(self) -> DatasetSchema:
        return DatasetSchema(
            name=self.name,
            time_column=self.time_column,
            columns=tuple(
                Column(c["name"], c["type"], nullable=c.get("nullable", True), description=c.get("description", ""))
                for c in self.columns
            ),
        )


class DatasetVersionQuerySet(TenantQuerySet["DatasetVersion"]):
    engagement_path = "dataset__engagement"


class DatasetVersion(models.Model):
    """One immutable state of a dataset: a single content-addressed Parquet file.

    Version n holds version n-1's records minus the days (in the engagement's time zone) that
    the new upload covers, plus the upload's records: re-sending a month replaces that month.
    """

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    parquet_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the stored Parquet file (its name).")
    row_count = models.PositiveBigIntegerField()
    first_day = models.DateField(null=True)
    last_day = models.DateField(null=True)
    upload_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the file as uploaded.")
    upload_name = models.CharField(max_length=255)
    upload_rows = models.PositiveBigIntegerField()
    upload_first_day = models.DateField(null=True)
    upload_last_day = models.DateField(null=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DatasetVersionQuerySet.as_manager()

    class Meta:
        ordering = ["dataset", "-number"]
        constraints = [models.UniqueConstraint(fields=["dataset", "number"], name="dataset_version_unique")]

    def __str__(self) -> str:
        return f"{self.dataset.name} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableError("A dataset version never changes: upload a new one.")
        super().save(*args, **kwargs)


class ImportBatchQuerySet(TenantQuerySet["ImportBatch"]):
    engagement_path = "engagement"


class ImportBatch(TimeStampedModel):
    """One file sent in (values or raw records): its hash, progress and outcome."""

    class Kind(models.TextChoices):
        VALUES = "values", "KPI values"
        RECORDS = "records", "Dataset records"
        RECOMPUTE = "recompute", "Recomputation from the datasets in force"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to start"
        RUNNING = "running", "Checking and loading"
        DONE = "done", "Loaded"
        FAILED = "failed", "Refused: nothing was written"

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="import_batches")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    dataset = models.ForeignKey(Dataset, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    stored_path = models.CharField(max_length=500, help_text="Where the file is kept, relative to the data dir.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(null=True)
    rows_written = models.PositiveBigIntegerField(default=0)
    message = models.TextField(blank=True)
    errors = models.JSONField(default=list, blank=True)
    options = models.JSONField(
        default=dict, blank=True, help_text='A recomputation\'s scope: {"kpi": ..., "from": ...}.'
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_by_org = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.file_name} ({self.status})"

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, int(100 * self.progress_done / self.progress_total))


class MeasurementQuerySet(TenantQuerySet["Measurement"]):
    engagement_path = "engagement"


class Measurement(models.Model):
    """The value of one KPI (by code) for one period of an engagement; its history is in revisions."""

    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="measurements")
    kpi_code = models.CharField(max_length=48)
    period_kind = models.CharField(max_length=7)
    period_start = models.DateField()
    # The current revision, denormalised for reading; revisions are the record. Empty (NULL) when a
    # correction of the records left the value undefined (a zero denominator, no records): "no data",
    # never a stale number.
    value = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    revision_count = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField()

    objects = MeasurementQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "kpi_code", "period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "kpi_code", "period_kind", "period_start"], name="measurement_unique_period"
            )
        ]
        indexes = [models.Index(fields=["engagement", "period_kind", "period_start"], name="measurement_period_idx")]

    def __str__(self) -> str:
        return f"{self.kpi_code} {self.period_start}: {self.value}"


class RevisionQuerySet(TenantQuerySet["Revision"]):
    engagement_path = "measurement__engagement"


class Revision(models.Model):
    """One recorded value of a measurement: who, when, from where, and why it changed."""

    measurement = models.ForeignKey(Measurement, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    value = models.DecimalField(
        max_digits=24, decimal_places=6, null=True, blank=True, help_text="Empty: undefined (the note says why)."
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    note = models.TextField(blank=True)
    reason = models.TextField(blank=True, help_text="Why the value was corrected (required from the 2nd revision).")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    recorded_by_org = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, null=True, related_name="+")
    recorded_at = models.DateTimeField()
    import_batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_line = models.PositiveIntegerField(null=True, blank=True)
    dataset_version = models.ForeignKey(
        DatasetVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    formula = models.TextField(blank=True)
    row_filter = models.TextField(blank=True)
    formula_fingerprint = models.CharField(max_length=64, blank=True)

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["measurement", "number"]
        constraints = [models.UniqueConstraint(fields=["measurement", "number"], name="revision_number_unique")]

    def __str__(self) -> str:
        return f"r{self.number} {self.value} ({self.source})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableError("A revision never changes: record a correction with a reason instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableError("A revision is kept forever.")


class IdempotencyKeyQuerySet(TenantQuerySet["IdempotencyKey"]):
    engagement_path = "engagement"


class IdempotencyKey(models.Model):
    """A processed API request, so a retried batch with the same key is answered, not applied twice.

    A key is one organisation's, for one engagement and one endpoint: the same key sent to another
    engagement (or another operation) is a new request there, never the cached answer of this one.
    """

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey("engagements.Engagement", on_delete=models.CASCADE, related_name="+")
    endpoint = models.CharField(max_length=100)
    key = models.CharField(max_length=200)
    request_sha256 = models.CharField(max_length=64)
    response = models.JSONField()
    status_code = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = IdempotencyKeyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "engagement", "endpoint", "key"], name="idempotency_key_unique"
            )
        ]

    def __str__(self) -> str:
        return self.key
