"""Document entries and what the database stores: KPIs with catalogue defaults, and datasets.

``kpi_fields`` gives a KPI entry's stored fields (``VersionKpi`` names) and
``kpi_spec_from_content`` turns a stored KPI back into an entry; ``dataset_declaration``,
``dataset_schema`` and ``dataset_spec_from_declared`` do the same for dataset declarations.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pactboard.core.errors import ErrorDetail
from pactboard.documents.spec.models import (
    BaselineSpec,
    DatasetColumnSpec,
    DatasetSpec,
    KpiSourceSpec,
    KpiSpec,
    MilestoneSpec,
    ThresholdsSpec,
)
from pactboard.formulas.schema import STANDARD_SCHEMAS, Column, DatasetSchema
from pactboard.kpis.catalogue import CATALOGUE, CatalogueKpi
from pactboard.kpis.spec import catalogue_defaults

_BY_CODE: dict[str, CatalogueKpi] = {k.code: k for k in CATALOGUE}


# --- KPIs: catalogue defaults, and the fields a KPI version stores --------------------------------


def kpi_fields(kpi: KpiSpec) -> dict[str, Any]:
    """The KPI's stored fields (``VersionKpi`` names), with the catalogue's defaults filled in.

    Required fields the document leaves out and the catalogue cannot fill stay ``None``, so the
    checks can say they are required; optional text fields become "".
    """
    standard = _BY_CODE.get(kpi.catalogue or "")
    defaults = catalogue_defaults(standard) if standard else {}
    thresholds = kpi.thresholds or ThresholdsSpec()
    baseline = kpi.baseline or BaselineSpec()
    given: dict[str, Any] = {
        "code": kpi.code,
        "name": kpi.name,
        "category": kpi.category,
        "unit": kpi.unit,
        "direction": kpi.direction,
        "definition": kpi.definition,
        "period": kpi.period,
        "dataset": kpi.source.dataset,
        "formula": kpi.source.formula,
        "row_filter": kpi.source.filter,
        "min_value": kpi.min_value,
        "max_value": kpi.max_value,
    }
    filled = {k: defaults.get(k) if v in (None, "") else v for k, v in given.items()}
    for optional_text in ("definition", "dataset", "formula", "row_filter"):
        filled[optional_text] = filled[optional_text] or ""
    return {
        **filled,
        "catalogue_code": kpi.catalogue or "",
        "target": kpi.target,
        "amber": thresholds.amber,
        "stretch": thresholds.stretch,
        "weight": kpi.weight,
        "baseline_value": baseline.value,
        "baseline_period": baseline.period or "",
        "baseline_source": baseline.source or "",
        "source": kpi.source.kind,
        "active": kpi.active,
    }


def kpi_spec_from_content(content: dict[str, Any]) -> KpiSpec:
    """A stored KPI (as ``kpis.selectors.kpi_content`` gives it) as a document entry.

    Fields equal to the catalogue's defaults are left out: importing fills them in again.
    """
    standard = _BY_CODE.get(content.get("catalogue_code") or "")

    def own(name: str, default_attr: str | None = None) -> Any:
        value = content.get(name)
        if value in (None, ""):
            return None
        if standard is not None and default_attr is not None and value == getattr(standard, default_attr):
            return None
        return value

    def opt(value: Any) -> Any:
        return None if value in (None, "") else value

    # Code, name, category, unit, direction and period always show for a custom KPI.
    custom = standard is None
    amber, stretch = content.get("amber"), content.get("stretch")
    baseline = BaselineSpec(
        value=content.get("baseline_value"),
        period=opt(content.get("baseline_period")),
        source=opt(content.get("baseline_source")),
    )
    return KpiSpec(
        code=content["code"],
        catalogue=opt(content.get("catalogue_code")),
        name=content.get("name") if custom else own("name", "name"),
        objectives=list(content.get("objectives") or []),
        category=content.get("category") if custom else own("category", "category"),
        unit=content.get("unit") if custom else own("unit", "unit"),
        direction=content.get("direction") if custom else own("direction", "direction"),
        period=content.get("period") if custom else own("period", "default_period"),
        definition=own("definition", "definition"),
        target=content["target"],
        thresholds=None if amber is None and stretch is None else ThresholdsSpec(amber=amber, stretch=stretch),
        weight=Decimal(content["weight"]) if content.get("weight") is not None else Decimal(1),
        baseline=None if baseline == BaselineSpec() else baseline,
        milestones=[
            MilestoneSpec(
                date=m["date"],
                target=m["target"],
                amber=m.get("amber"),
                stretch=m.get("stretch"),
                note=opt(m.get("note")),
            )
            for m in content.get("milestones") or []
        ],
        source=KpiSourceSpec(
            kind=content.get("source") or "manual",
            dataset=own("dataset", "dataset"),
            formula=own("formula", "formula"),
            filter=own("row_filter", "row_filter"),
        ),
        min_value=own("min_value", "min_value"),
        max_value=own("max_value", "max_value"),
        active=bool(content.get("active", True)),
    )


# --- datasets: what a declaration stores, and back -------------------------------------------------


def _standard_description(standard: str) -> str:
    # What dataset_declare gives a standard dataset declared without a description.
    return f"Standard {standard} records."


def dataset_schema(spec: DatasetSpec) -> DatasetSchema | None:
    """The schema a declaration gives, or None when it names no known standard schema and has no columns."""
    if spec.standard is not None:
        standard = STANDARD_SCHEMAS.get(spec.standard)
        return None if standard is None else DatasetSchema(spec.name, standard.columns, standard.time_column)
    if spec.columns is None:
        return None
    return DatasetSchema(
        name=spec.name,
        time_column=spec.time_column or "",
        columns=tuple(
            Column(c.name, c.type, nullable=c.nullable, description=c.description or "")  # type: ignore[arg-type]
            for c in spec.columns
        ),
    )


def dataset_declaration(spec: DatasetSpec) -> dict[str, Any]:
    """The keyword arguments of ``measurements.services.dataset_declare`` for a (checked) declaration."""
    if spec.standard is not None:
        return {"name": spec.name, "standard": spec.standard, "description": spec.description or ""}
    return {
        "name": spec.name,
        "columns": [
            {"name": c.name, "type": c.type, "nullable": c.nullable, "description": c.description or ""}
            for c in spec.columns or []
        ],
        "time_column": spec.time_column or "",
        "description": spec.description or "",
    }


def _shape(schema: DatasetSchema) -> tuple[tuple[tuple[str, str, bool], ...], str]:
    return tuple((c.name, c.type, c.nullable) for c in schema.columns), schema.time_column


def dataset_spec_from_declared(*, schema: DatasetSchema, description: str) -> DatasetSpec:
    """A declared dataset as a document entry: ``standard: <name>`` when its columns are a standard schema's."""
    matches = [
        s for s in STANDARD_SCHEMAS.values() if s.columns == schema.columns and s.time_column == schema.time_column
    ]
    standard = next((s for s in matches if s.name == schema.name), matches[0] if matches else None)
    if standard is not None:
        own = description if description and description != _standard_description(standard.name) else None
        return DatasetSpec(name=schema.name, standard=standard.name, description=own)
    return DatasetSpec(
        name=schema.name,
        description=description or None,
        time_column=schema.time_column,
        columns=[
            DatasetColumnSpec(name=c.name, type=c.type, nullable=c.nullable, description=c.description or None)
            for c in schema.columns
        ],
    )


def dataset_shape_differs(*, declared: DatasetSchema, spec: DatasetSpec) -> list[ErrorDetail]:
    """Why ``spec`` does not describe the already ``declared`` dataset (columns, types, required, time column)."""
    wanted = dataset_schema(spec)
    if wanted is None:
        return []
    (have_columns, have_time), (want_columns, want_time) = _shape(declared), _shape(wanted)
    problems: list[ErrorDetail] = []
    never = "a declared dataset never changes (its uploaded versions depend on it): use another name"
    where = "standard" if spec.standard is not None else "columns"
    if have_columns != want_columns:
        listed = ", ".join(f"{n} {t}" + ("" if nullable else " required") for n, t, nullable in have_columns)
        problems.append(
            ErrorDetail(
                f"the engagement's dataset {spec.name!r} has other columns ({listed}); {never}",
                f"{where}",
                "dataset_declared",
            )
        )
    elif have_time != want_time:
        problems.append(
            ErrorDetail(
                f"the engagement's dataset {spec.name!r} has the time column {have_time!r}; {never}",
                "standard" if spec.standard is not None else "time_column",
                "dataset_declared",
            )
        )
    return problems
