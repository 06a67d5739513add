"""Checks of an engagement document beyond types.

Dates within the engagement, duplicate names, references to objectives and datasets,
thresholds, and formulas compiled against their datasets; each problem located by its path.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from pactboard.core.errors import ErrorDetail
from pactboard.documents.spec.convert import _BY_CODE, dataset_schema, kpi_fields
from pactboard.documents.spec.models import DatasetSpec, Document, EngagementSpec, KpiSpec
from pactboard.formulas.schema import STANDARD_SCHEMAS, DatasetSchema
from pactboard.kpis import spec as kpi_spec
from pactboard.scoring import Milestone as TermsMilestone

# --- checks beyond types ------------------------------------------------------------------------

# Where a stored KPI field sits in a document entry.
KPI_FIELD_PATHS: dict[str, str] = {
    "catalogue_code": "catalogue",
    "min_value": "min_value",
    "amber": "thresholds.amber",
    "stretch": "thresholds.stretch",
    "baseline_value": "baseline.value",
    "baseline_period": "baseline.period",
    "baseline_source": "baseline.source",
    "source": "source.kind",
    "dataset": "source.dataset",
    "formula": "source.formula",
    "row_filter": "source.filter",
}


# Fields the catalogue fills for a KPI taken from it, so required only for one that is not.
_CATALOGUE_FILLED = ("name", "category", "unit", "direction", "period")


def _within(day: date, engagement: EngagementSpec) -> bool:
    # With the engagement's dates upside down "within" has no meaning, and that error is reported alone.
    return engagement.end_date < engagement.start_date or engagement.start_date <= day <= engagement.end_date


def _span(engagement: EngagementSpec) -> str:
    return f"{engagement.start_date.isoformat()} to {engagement.end_date.isoformat()}"


def _check_dataset(i: int, spec: DatasetSpec) -> list[ErrorDetail]:
    at = f"datasets[{i}]"
    problems: list[ErrorDetail] = []
    if spec.standard is not None and spec.columns is not None:
        return [ErrorDetail("give either standard or columns, not both", at, "dataset_shape")]
    if spec.standard is None and spec.columns is None:
        return [ErrorDetail("give standard (a standard schema) or columns of its own", at, "dataset_shape")]
    if spec.standard is not None:
        if spec.standard not in STANDARD_SCHEMAS:
            problems.append(
                ErrorDetail(
                    f"no standard dataset {spec.standard!r} (use one of: {', '.join(sorted(STANDARD_SCHEMAS))})",
                    f"{at}.standard",
                    "unknown_dataset",
                )
            )
        if spec.time_column is not None:
            problems.append(
                ErrorDetail(
                    "only with columns of its own: a standard schema has its time column",
                    f"{at}.time_column",
                    "not_applicable",
                )
            )
        return problems
    columns = spec.columns or []
    if not columns:
        problems.append(ErrorDetail("declare at least one column", f"{at}.columns", "required"))
    names: list[str] = []
    for j, column in enumerate(columns):
        if column.name in names:
            problems.append(
                ErrorDetail(
                    f"another column already has the name {column.name!r}",
                    f"{at}.columns[{j}].name",
                    "duplicate_column",
                )
            )
        names.append(column.name)
    if spec.time_column is None:
        problems.append(ErrorDetail("this field is required with columns of its own", f"{at}.time_column", "required"))
    elif columns and spec.time_column not in names:
        problems.append(
            ErrorDetail(
                f"{spec.time_column!r} is not one of the columns ({', '.join(names)})",
                f"{at}.time_column",
                "unknown_column",
            )
        )
    return problems


def _unknown_dataset(name: str, declared: Iterable[str]) -> str:
    shown = repr(name) if name else "none given"
    standard = ", ".join(sorted(STANDARD_SCHEMAS))
    own = sorted(declared)
    if not own:
        return f"unknown dataset ({shown}): use one of {standard}"
    return (
        f"unknown dataset ({shown}): use one of the document's datasets ({', '.join(own)}) "
        f"or a standard one ({standard})"
    )


def _check_kpi(
    i: int, kpi: KpiSpec, document: Document, known: list[str], datasets: dict[str, DatasetSchema | None]
) -> list[ErrorDetail]:
    at = f"kpis[{i}]"
    problems: list[ErrorDetail] = []
    engagement = document.engagement
    if kpi.catalogue is not None and kpi.catalogue not in _BY_CODE:
        problems.append(
            ErrorDetail(
                f"no standard KPI has the code {kpi.catalogue!r} (known: {', '.join(_BY_CODE)})",
                f"{at}.catalogue",
                "unknown_catalogue_kpi",
            )
        )
        return problems
    data = kpi_fields(kpi)
    if kpi.code is None and kpi.catalogue is None:
        problems.append(
            ErrorDetail("this field is required for a KPI not taken from the catalogue", f"{at}.code", "required")
        )
    for name in _CATALOGUE_FILLED:
        if data[name] is None:
            problems.append(
                ErrorDetail("this field is required for a KPI not taken from the catalogue", f"{at}.{name}", "required")
            )
    if not kpi.objectives:
        problems.append(
            ErrorDetail(
                "link the KPI to at least one objective (a key from 'objectives')", f"{at}.objectives", "required"
            )
        )
    seen_refs: set[str] = set()
    for j, ref in enumerate(kpi.objectives):
        if ref in seen_refs:
            problems.append(
                ErrorDetail(f"the objective {ref!r} is listed twice", f"{at}.objectives[{j}]", "duplicate_objective")
            )
        elif ref not in known:
            problems.append(
                ErrorDetail(
                    f"unknown objective {ref!r} (known: {', '.join(known) or 'none: add objectives first'})",
                    f"{at}.objectives[{j}]",
                    "unknown_objective",
                )
            )
        seen_refs.add(ref)

    # Everything a KPI is checked for at every door (kpis.spec), located at the document's paths.
    def schema_of(name: str) -> DatasetSchema | None:
        # The document's own datasets first, as the engagement's declared ones come first in the services.
        return datasets[name] if name in datasets else STANDARD_SCHEMAS.get(name)

    spec = kpi_spec.KpiSpec.from_fields(
        data,
        milestones=[
            TermsMilestone(date=m.date, target=m.target, amber=m.amber, stretch=m.stretch) for m in kpi.milestones
        ],
    )
    for p in kpi_spec.kpi_spec_check(
        spec,
        engagement_start=engagement.start_date,
        engagement_end=engagement.end_date,
        dataset_schema=schema_of,
    ):
        location = p.location or ""
        field_name = location.split("[")[0]
        if p.code == "required" and field_name in _CATALOGUE_FILLED:
            continue  # reported above, with the hint that the catalogue would fill it
        if field_name == "code" and kpi.code is None:
            continue  # a catalogue code, or reported above as required
        if p.code == "unknown_dataset":
            if data["dataset"] in datasets:
                continue  # its declaration is refused at datasets[...]: checking the formula against it says nothing
            p = ErrorDetail(_unknown_dataset(data["dataset"], datasets), location, p.code)
        path = KPI_FIELD_PATHS.get(field_name, field_name) + location[len(field_name) :]
        problems.append(ErrorDetail(p.message, f"{at}.{path}" if location else at, p.code))
    return problems


def document_check(document: Document) -> list[ErrorDetail]:
    """Every problem beyond types: dates, duplicates, references, thresholds, formulas; empty when sound."""
    problems: list[ErrorDetail] = []
    engagement = document.engagement
    if engagement.end_date < engagement.start_date:
        problems.append(
            ErrorDetail(
                f"must be on or after the start date ({engagement.start_date.isoformat()})",
                "engagement.end_date",
                "end_before_start",
            )
        )
    datasets: dict[str, DatasetSchema | None] = {}
    for i, spec in enumerate(document.datasets):
        if spec.name in datasets:
            problems.append(
                ErrorDetail(
                    f"another dataset already has the name {spec.name!r}", f"datasets[{i}].name", "duplicate_name"
                )
            )
            continue
        found = _check_dataset(i, spec)
        problems.extend(found)
        datasets[spec.name] = None if found else dataset_schema(spec)
    keys: list[str] = []
    for i, objective in enumerate(document.objectives):
        if objective.key in keys:
            problems.append(
                ErrorDetail(
                    f"another objective already has the key {objective.key!r}", f"objectives[{i}].key", "duplicate_key"
                )
            )
        else:
            keys.append(objective.key)
    codes: set[str] = set()
    for i, kpi in enumerate(document.kpis):
        problems.extend(_check_kpi(i, kpi, document, keys, datasets))
        code = kpi.code or kpi.catalogue
        if code is not None and kpi.catalogue in (None, *_BY_CODE):
            if code in codes:
                problems.append(
                    ErrorDetail(f"another KPI already has the code {code!r}", f"kpis[{i}].code", "duplicate_code")
                )
            codes.add(code)
    agreement = document.agreement
    if (
        agreement is not None
        and agreement.effective_from is not None
        and not _within(agreement.effective_from, engagement)
    ):
        problems.append(
            ErrorDetail(
                f"must fall within the engagement ({_span(engagement)})",
                "agreement.effective_from",
                "date_outside_engagement",
            )
        )
    return problems


def document_warnings(document: Document) -> list[ErrorDetail]:
    """What deserves a look but is no reason to refuse the document."""
    warnings: list[ErrorDetail] = []
    for i, kpi in enumerate(document.kpis):
        standard = _BY_CODE.get(kpi.catalogue or "")
        # source.kind defaults to manual: a catalogue KPI written without it would quietly be typed in by
        # hand although the catalogue computes it, which a reader of the document would not expect.
        if standard is not None and "kind" not in kpi.source.model_fields_set:
            dataset = kpi.source.dataset or standard.dataset
            warnings.append(
                ErrorDetail(
                    "not given, so this catalogue KPI's values are entered by hand (manual); write kind: dataset "
                    f"to compute them from the {dataset} dataset by the catalogue's formula, or kind: manual to "
                    "keep entering them",
                    f"kpis[{i}].source.kind",
                    "source_not_given",
                )
            )
    active = sum(1 for k in document.kpis if k.active)
    limit = document.engagement.max_active_kpis
    if active > limit:
        warnings.append(
            ErrorDetail(
                f"{active} active KPIs: more than the {limit} this engagement aims for; too many KPIs dilute attention",
                "kpis",
                "too_many_kpis",
            )
        )
    return warnings
