"""Measurement pages: a KPI's values and their revisions, imports with progress, datasets, records, scorecards.

Views are thin: they read through ``selectors``, write through ``services`` (imports run as tasks)
and turn a ``PactboardError`` into form errors. Every page starts from ``engagement_get`` of the
actor, so another tenant's engagement is a 404. One module per page family; ``urls.py`` reads
them from here.
"""

from pactboard.measurements.views.common import (
    _LOCATION,
    STATUS_LABELS,
    UNDEFINED,
    _actor,
    _engagement,
    _is_htmx,
    _people,
    _reraise_access,
    _upload_too_large,
)
from pactboard.measurements.views.dataset_pages import _dataset, _datasets_context, dataset_upload, datasets
from pactboard.measurements.views.imports import (
    _batch,
    _error_rows,
    _import_example,
    _progress_text,
    import_batch,
    import_file,
    import_values,
    recompute,
)
from pactboard.measurements.views.scorecard_page import _default_period, scorecard
from pactboard.measurements.views.values import RevisionRow, ValueRow, _value_rows, data, kpi_values, records

__all__ = [
    "STATUS_LABELS",
    "UNDEFINED",
    "_LOCATION",
    "RevisionRow",
    "ValueRow",
    "_actor",
    "_batch",
    "_dataset",
    "_datasets_context",
    "_default_period",
    "_engagement",
    "_error_rows",
    "_import_example",
    "_is_htmx",
    "_people",
    "_progress_text",
    "_reraise_access",
    "_upload_too_large",
    "_value_rows",
    "data",
    "dataset_upload",
    "datasets",
    "import_batch",
    "import_file",
    "import_values",
    "kpi_values",
    "recompute",
    "records",
    "scorecard",
]
