"""The engagement document ("engagement as code"): its pydantic models, YAML load and dump, and checks.

Pure: pydantic and PyYAML, no ORM. One YAML document holds an engagement's terms, objectives
and KPI set; ``docs/engagement-as-code.md`` describes it. The same models publish the JSON
Schema (``schemas/engagement.schema.json``, served at ``/schemas/engagement.schema.json``).

Numbers never pass through float: YAML numbers with a fraction are read as ``Decimal`` from
their text, and decimals are written as plain numbers without exponent. Keys come out in the
models' field order and strings in one style, so dumping what was loaded from a dump gives the
same bytes. Every problem is reported at once, located by its path in the document, such as
``kpis[3].thresholds.amber``.

The package's parts:

- ``models``: the pydantic models of the document and their field types;
- ``yaml_io``: YAML load and dump, and the located error messages of a refused document;
- ``convert``: a KPI entry as the fields a KPI version stores (catalogue defaults filled in), a
  dataset entry as what its declaration stores, and both back;
- ``checks``: every check beyond types (dates, duplicates, references, thresholds, formulas);
- ``schema``: the JSON Schema the models publish.
"""

from pactboard.documents.spec.checks import KPI_FIELD_PATHS, document_check, document_warnings
from pactboard.documents.spec.convert import (
    dataset_declaration,
    dataset_schema,
    dataset_shape_differs,
    dataset_spec_from_declared,
    kpi_fields,
    kpi_spec_from_content,
)
from pactboard.documents.spec.models import (
    FORMAT_VERSION,
    SCHEMA_PATH,
    AgreementSpec,
    BaselineSpec,
    DatasetColumnSpec,
    DatasetSpec,
    Document,
    EngagementSpec,
    KpiSourceSpec,
    KpiSpec,
    MilestoneSpec,
    ObjectiveSpec,
    ThresholdsSpec,
)
from pactboard.documents.spec.schema import document_json_schema, document_json_schema_text
from pactboard.documents.spec.yaml_io import document_dump, document_load, document_parse

__all__ = [
    "FORMAT_VERSION",
    "KPI_FIELD_PATHS",
    "SCHEMA_PATH",
    "AgreementSpec",
    "BaselineSpec",
    "DatasetColumnSpec",
    "DatasetSpec",
    "Document",
    "EngagementSpec",
    "KpiSourceSpec",
    "KpiSpec",
    "MilestoneSpec",
    "ObjectiveSpec",
    "ThresholdsSpec",
    "dataset_declaration",
    "dataset_schema",
    "dataset_shape_differs",
    "dataset_spec_from_declared",
    "document_check",
    "document_dump",
    "document_json_schema",
    "document_json_schema_text",
    "document_load",
    "document_parse",
    "document_warnings",
    "kpi_fields",
    "kpi_spec_from_content",
]
