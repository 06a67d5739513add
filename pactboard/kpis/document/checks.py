"""Checks of an engagement document beyond types.

Dates within the engagement, duplicate names, references to objectives and datasets,
thresholds, and formulas compiled against their datasets; each problem located by its path.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.kpis.content import plain_decimal
from pactboard.kpis.document.convert import _BY_CODE, dataset_schema, kpi_fields
from pactboard.kpis.document.models import DatasetSpec, Document, EngagementSpec, KpiSpec
from pactboard.measurements.formulas import formula_compile
from pactboard.measurements.schema import STANDARD_SCHEMAS, DatasetSchema
from pactboard.scoring import Milestone as TermsMilestone
from pactboard.scoring import kpi_terms_check

# --- checks beyond types ------------------------------------------------------------------------

# Where a stored KPI field sits in a document entry.
KPI_FIELD_PATHS: dict[str, str] = {
    "catalogue_code": "catalogue",
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
                ErrorDetail("only with columns of its own: a standard schema has its time column", f"{at}.time_column")
            )
        return problems
    columns = spec.columns or []
    if not columns:
        problems.append(ErrorDetail("declare at least one column", f"{at}.columns"))
    names: list[str] = []
    for j, column in enumerate(columns):
        if column.name in names:
            problems.append(
                ErrorDetail(f"another column already has the name {column.name!r}", f"{at}.columns[{j}].name")
            )
        names.append(column.name)
    if spec.time_column is None:
        problems.append(ErrorDetail("this field is required with columns of its own", f"{at}.time_column", "required"))
    elif columns and spec.time_column not in names:
        problems.append(
            ErrorDetail(f"{spec.time_column!r} is not one of the columns ({', '.join(names)})", f"{at}.time_column")
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
        problems.append(ErrorDetail("this field is required for a KPI not taken from the catalogue", f"{at}.code"))
    for name in ("name", "category", "unit", "direction", "period"):
        if data[name] is None:
            problems.append(
                ErrorDetail("this field is required for a KPI not taken from the catalogue", f"{at}.{name}", "required")
            )
    if not kpi.objectives:
        problems.append(
            ErrorDetail("link the KPI to at least one objective (a key from 'objectives')", f"{at}.objectives")
        )
    seen_refs: set[str] = set()
    for j, ref in enumerate(kpi.objectives):
        if ref in seen_refs:
            problems.append(ErrorDetail(f"the objective {ref!r} is listed twice", f"{at}.objectives[{j}]"))
        elif ref not in known:
            problems.append(
                ErrorDetail(
                    f"unknown objective {ref!r} (known: {', '.join(known) or 'none: add objectives first'})",
                    f"{at}.objectives[{j}]",
                    "unknown_objective",
                )
            )
        seen_refs.add(ref)
    if data["direction"] is not None:
        for p in kpi_terms_check(
            code=data["code"] or "-",
            direction=data["direction"],
            target=data["target"],
            amber=data["amber"],
            stretch=data["stretch"],
            weight=data["weight"],
            milestones=tuple(
                TermsMilestone(date=m.date, target=m.target, amber=m.amber, stretch=m.stretch) for m in kpi.milestones
            ),
        ):
            problems.append(ErrorDetail(p.message, f"{at}.{p.location}" if p.location else at, p.code))
    low, high = data["min_value"], data["max_value"]
    if low is not None and high is not None and low >= high:
        problems.append(ErrorDetail(f"must be below max_value ({plain_decimal(high)})", f"{at}.min_value"))
    for name in ("target", "amber", "stretch"):
        value = data[name]
        where = f"{at}.{KPI_FIELD_PATHS.get(name, name)}"
        if value is None:
            continue
        if low is not None and value < low:
            problems.append(
                ErrorDetail(
                    f"{plain_decimal(value)} is below the lowest value this KPI allows ({plain_decimal(low)})", where
                )
            )
        if high is not None and value > high:
            problems.append(
                ErrorDetail(
                    f"{plain_decimal(value)} is above the highest value this KPI allows ({plain_decimal(high)})", where
                )
            )
    for j, milestone in enumerate(kpi.milestones):
        if not _within(milestone.date, engagement):
            problems.append(
                ErrorDetail(f"must fall within the engagement ({_span(engagement)})", f"{at}.milestones[{j}].date")
            )
    if data["source"] == "dataset" or data["formula"]:
        # The document's own datasets first, as dataset_schema_for reads the engagement's declared ones.
        declared = data["dataset"] in datasets
        schema = datasets[data["dataset"]] if declared else STANDARD_SCHEMAS.get(data["dataset"])
        if schema is None and declared:
            pass  # its declaration is refused at datasets[...]: checking the formula against it says nothing
        elif schema is None:
            problems.append(
                ErrorDetail(_unknown_dataset(data["dataset"], datasets), f"{at}.source.dataset", "unknown_dataset")
            )
        elif not data["formula"]:
            problems.append(ErrorDetail("a KPI computed from a dataset needs a formula", f"{at}.source.formula"))
        else:
            try:
                formula_compile(expression=data["formula"], schema=schema, row_filter=data["row_filter"] or None)
            except PactboardError as exc:
                for d in exc.details or [ErrorDetail(exc.message)]:
                    part = "source.filter" if d.location == "row_filter" else "source.formula"
                    problems.append(ErrorDetail(d.message, f"{at}.{part}", d.code))
    return problems


def document_check(document: Document) -> list[ErrorDetail]:
    """Every problem beyond types: dates, duplicates, references, thresholds, formulas; empty when sound."""
    problems: list[ErrorDetail] = []
    engagement = document.engagement
    if engagement.end_date < engagement.start_date:
        problems.append(
            ErrorDetail(
                f"must be on or after the start date ({engagement.start_date.isoformat()})", "engagement.end_date"
            )
        )
    datasets: dict[str, DatasetSchema | None] = {}
    for i, spec in enumerate(document.datasets):
        if spec.name in datasets:
            problems.append(ErrorDetail(f"another dataset already has the name {spec.name!r}", f"datasets[{i}].name"))
            continue
        found = _check_dataset(i, spec)
        problems.extend(found)
        datasets[spec.name] = None if found else dataset_schema(spec)
    keys: list[str] = []
    for i, objective in enumerate(document.objectives):
        if objective.key in keys:
            problems.append(
                ErrorDetail(f"another objective already has the key {objective.key!r}", f"objectives[{i}].key")
            )
        else:
            keys.append(objective.key)
    codes: set[str] = set()
    for i, kpi in enumerate(document.kpis):
        problems.extend(_check_kpi(i, kpi, document, keys, datasets))
        code = kpi.code or kpi.catalogue
        if code is not None and kpi.catalogue in (None, *_BY_CODE):
            if code in codes:
                problems.append(ErrorDetail(f"another KPI already has the code {code!r}", f"kpis[{i}].code"))
            codes.add(code)
    agreement = document.agreement
    if (
        agreement is not None
        and agreement.effective_from is not None
        and not _within(agreement.effective_from, engagement)
    ):
        problems.append(
            ErrorDetail(f"must fall within the engagement ({_span(engagement)})", "agreement.effective_from")
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
