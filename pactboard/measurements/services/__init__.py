"""Writes for measurements: values by hand, file and API; dataset uploads; formula computation.

Every way in ends in ``_values_apply``: one transaction, checked whole before anything is
written, a new revision for each changed value (never an overwrite), and one audit event.
``values`` records values (by hand, pushed, imported); ``imports`` receives value files and runs
them as tasks; ``datasets`` declares datasets, stores uploads as versions and computes the KPIs
that read them.
"""

from pactboard.measurements.services.datasets import (
    _merge_versions,
    _one,
    dataset_declare,
    dataset_kpis_compute,
    dataset_upload_run,
)
from pactboard.measurements.services.imports import (
    ProgressCallback,
    _batch_fail,
    _batch_progress,
    _store_upload,
    import_batch_receive,
    import_batch_start,
    values_import_run,
)
from pactboard.measurements.services.values import (
    ApplyResult,
    ValueRow,
    _require_contributor,
    _values_apply,
    measurement_record,
    value_rows_check,
    value_rows_not_started,
    values_push,
    values_push_idempotent,
)

__all__ = [
    "ApplyResult",
    "ProgressCallback",
    "ValueRow",
    "_batch_fail",
    "_batch_progress",
    "_merge_versions",
    "_one",
    "_require_contributor",
    "_store_upload",
    "_values_apply",
    "dataset_declare",
    "dataset_kpis_compute",
    "dataset_upload_run",
    "import_batch_receive",
    "import_batch_start",
    "measurement_record",
    "value_rows_check",
    "value_rows_not_started",
    "values_import_run",
    "values_push",
    "values_push_idempotent",
]
