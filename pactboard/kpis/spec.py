"""One KPI specification and its one check (pure: no Django).

A KPI reaches Pactboard four ways: the draft form, the REST API, the engagement's YAML document
and the services that store it. Each converts what it received into a ``KpiSpec`` and calls
``kpi_spec_check``, so a rule (a length, a choice, a threshold's side, a formula's dataset) is
written once and every door refuses the same input with the same words. Locations in the
errors are the spec's own field names (``amber``, ``milestones[0].date``, ``formula``); each
door maps them to its own (``thresholds.amber`` in the document, a form field).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal
from typing import Any, cast

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.formulas import MAX_FORMULA_LENGTH, formula_compile
from pactboard.formulas.schema import STANDARD_SCHEMAS, DatasetSchema
from pactboard.kpis.catalogue import CATALOGUE, CatalogueKpi
from pactboard.kpis.content import plain_decimal
from pactboard.scoring import Milestone, kpi_terms_check
from pactboard.scoring.attainment import Direction

# The allowed values; the models' TextChoices carry the same values with their labels
# (tests/kpis/test_spec.py holds them equal).
CATEGORIES: tuple[str, ...] = ("operational", "quality", "financial", "customer_satisfaction")
DIRECTIONS: tuple[str, ...] = ("higher", "lower")
PERIODS: tuple[str, ...] = ("week", "month", "quarter")
SOURCES: tuple[str, ...] = ("manual", "import", "api", "dataset")

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,47}$")
CODE_RULE = "Use 2–48 lower-case letters, digits and underscores, starting with a letter."

# Lengths of the text columns (kpis.models.VersionKpi); longer text is refused, never cut.
MAX_LENGTHS: dict[str, int] = {
    "code": 48,
    "name": 120,
    "catalogue_code": 48,
    "unit": 24,
    "definition": 10_000,
    "baseline_period": 40,
    "baseline_source": 4000,
    "dataset": 48,
    "formula": MAX_FORMULA_LENGTH,
    "row_filter": MAX_FORMULA_LENGTH,
}

# Numbers are stored as DECIMAL(20, 6) (weight DECIMAL(8, 3)): anything wider cannot be stored
# exactly, and on SQLite would come back as a float that Django cannot read.
NUMBER_LIMIT = Decimal(10) ** 14
WEIGHT_LIMIT = Decimal(10) ** 5
NUMBER_FIELDS: tuple[str, ...] = ("target", "amber", "stretch", "weight", "baseline_value", "min_value", "max_value")


@dataclass(frozen=True)
class KpiSpec:
    """Everything that defines one KPI of an agreement version, as every door hands it over."""

    code: str = ""
    name: str = ""
    catalogue_code: str = ""
    category: str = ""
    unit: str = ""
    direction: str = ""
    definition: str = ""
    period: str = ""
    target: Decimal | None = None
    amber: Decimal | None = None
    stretch: Decimal | None = None
    weight: Decimal = Decimal("1")
    baseline_value: Decimal | None = None
    baseline_period: str = ""
    baseline_source: str = ""
    source: str = "manual"
    dataset: str = ""
    formula: str = ""
    row_filter: str = ""
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    active: bool = True
    milestones: tuple[Milestone, ...] = field(default=())

    @classmethod
    def from_fields(cls, data: dict[str, Any], *, milestones: Sequence[Milestone] = ()) -> KpiSpec:
        """A spec from stored-field names (``VersionKpi``'s); ``None`` and missing mean "not given"."""
        names = {f.name for f in fields(cls)} - {"milestones"}
        unknown = sorted(set(data) - names - {"objectives"})
        if unknown:
            raise PactboardError(f"Unknown KPI fields: {', '.join(unknown)}.", kind="invalid")
        given: dict[str, Any] = {}
        for name in names:
            value = data.get(name)
            if value is None:
                continue
            given[name] = value
        if "source" in given and not given["source"]:
            del given["source"]
        return cls(**given, milestones=tuple(milestones))

    def stored_fields(self) -> dict[str, Any]:
        """The fields ``VersionKpi`` stores (milestones apart)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "milestones"}


def catalogue_entry(code: str) -> CatalogueKpi | None:
    return next((k for k in CATALOGUE if k.code == code), None)


def catalogue_defaults(entry: CatalogueKpi) -> dict[str, Any]:
    """The fields a standard KPI fills (stored-field names): the one catalogue-to-fields mapping."""
    return {
        "code": entry.code,
        "name": entry.name,
        "category": entry.category,
        "unit": entry.unit,
        "direction": entry.direction,
        "definition": entry.definition,
        "period": entry.default_period,
        "dataset": entry.dataset,
        "formula": entry.formula,
        "row_filter": entry.row_filter or "",
        "min_value": entry.min_value,
        "max_value": entry.max_value,
    }


def kpi_spec_with_catalogue(spec: KpiSpec) -> KpiSpec:
    """The spec with what it leaves out taken from its catalogue entry (the one place defaults are filled)."""
    entry = catalogue_entry(spec.catalogue_code) if spec.catalogue_code else None
    if entry is None:
        return spec
    defaults = catalogue_defaults(entry)
    return replace(spec, **{k: v for k, v in defaults.items() if getattr(spec, k) in (None, "")})


def _text_problems(spec: KpiSpec) -> list[ErrorDetail]:
    problems: list[ErrorDetail] = []
    if not CODE_PATTERN.match(spec.code or ""):
        problems.append(ErrorDetail(CODE_RULE, "code", "invalid_code"))
    for name in ("name", "category", "unit", "direction", "period"):
        if not getattr(spec, name):
            problems.append(ErrorDetail("This field is required.", name, "required"))
    for name, limit in MAX_LENGTHS.items():
        text = getattr(spec, name)
        if name != "code" and len(text) > limit:
            problems.append(ErrorDetail(f"at most {limit:,} characters (this has {len(text):,})", name, "too_long"))
    for name, allowed in (
        ("category", CATEGORIES),
        ("direction", DIRECTIONS),
        ("period", PERIODS),
        ("source", SOURCES),
    ):
        value = getattr(spec, name)
        if value and value not in allowed:
            problems.append(ErrorDetail(f"{value[:40]!r} is not one of: {', '.join(allowed)}", name, "invalid_choice"))
    return problems


def _number_problems(spec: KpiSpec) -> list[ErrorDetail]:
    problems: list[ErrorDetail] = []
    values: list[tuple[str, Decimal | None]] = [(n, getattr(spec, n)) for n in NUMBER_FIELDS]
    for i, m in enumerate(spec.milestones):
        values += [(f"milestones[{i}].target", m.target), (f"milestones[{i}].amber", m.amber)]
        values += [(f"milestones[{i}].stretch", m.stretch)]
    for where, value in values:
        if value is None:
            continue
        limit = WEIGHT_LIMIT if where == "weight" else NUMBER_LIMIT
        if not value.is_finite() or abs(value) >= limit:
            # The value leads the message (error bodies cut it to an excerpt), so the user sees which one it was.
            shown = format(value, "f") if value.is_finite() else str(value)
            problems.append(
                ErrorDetail(
                    f"{shown} is out of range: a number here must be finite and below {plain_decimal(limit)} in size",
                    where,
                    "number_out_of_range",
                )
            )
    return problems


# kpi_terms_check speaks the document's words for thresholds; the spec names its own fields.
_TERMS_LOCATIONS = {"thresholds.amber": "amber", "thresholds.stretch": "stretch"}


def kpi_spec_check(
    spec: KpiSpec,
    *,
    engagement_start: date | None,
    engagement_end: date | None,
    dataset_schema: Callable[[str], DatasetSchema | None],
) -> list[ErrorDetail]:
    """Every problem of a (catalogue-filled) spec, each located at a spec field; empty when sound.

    ``dataset_schema`` resolves a dataset name the way the caller knows datasets: the
    engagement's declared ones (services), the document's own (YAML), else the standard ones.
    """
    problems = _text_problems(spec) + _number_problems(spec)
    if problems and any(p.code == "number_out_of_range" for p in problems):
        # Threshold arithmetic on numbers that cannot be stored says nothing useful.
        return problems
    if spec.target is None:
        problems.append(ErrorDetail("Set the target.", "target", "required"))
    if spec.direction in DIRECTIONS and spec.target is not None:
        problems.extend(
            replace(p, location=_TERMS_LOCATIONS.get(p.location or "", p.location))
            for p in kpi_terms_check(
                code=spec.code or "-",
                direction=cast(Direction, spec.direction),  # checked against DIRECTIONS above
                target=spec.target,
                amber=spec.amber,
                stretch=spec.stretch,
                weight=spec.weight,
                milestones=spec.milestones,
            )
        )
    low, high = spec.min_value, spec.max_value
    if low is not None and high is not None and low >= high:
        problems.append(
            ErrorDetail(
                f"must be below the highest possible value ({plain_decimal(high)})", "min_value", "min_not_below_max"
            )
        )
    for name in ("target", "amber", "stretch"):
        value = getattr(spec, name)
        if value is None:
            continue
        if low is not None and value < low:
            problems.append(
                ErrorDetail(
                    f"{plain_decimal(value)} is below the lowest value this KPI allows ({plain_decimal(low)})",
                    name,
                    "out_of_range",
                )
            )
        if high is not None and value > high:
            problems.append(
                ErrorDetail(
                    f"{plain_decimal(value)} is above the highest value this KPI allows ({plain_decimal(high)})",
                    name,
                    "out_of_range",
                )
            )
    if engagement_start is not None and engagement_end is not None and engagement_start <= engagement_end:
        span = f"{engagement_start.isoformat()} to {engagement_end.isoformat()}"
        for i, m in enumerate(spec.milestones):
            if not engagement_start <= m.date <= engagement_end:
                problems.append(
                    ErrorDetail(
                        f"must fall within the engagement ({span})", f"milestones[{i}].date", "date_outside_engagement"
                    )
                )
    if spec.source == "dataset" or spec.formula:
        problems.extend(
            kpi_formula_check(
                dataset=spec.dataset, formula=spec.formula, row_filter=spec.row_filter, dataset_schema=dataset_schema
            )
        )
    return problems


def kpi_formula_check(
    *, dataset: str, formula: str, row_filter: str, dataset_schema: Callable[[str], DatasetSchema | None]
) -> list[ErrorDetail]:
    """Problems of a computed KPI's dataset, formula and row filter (the sqlglot whitelist); empty when sound."""
    if len(formula) > MAX_LENGTHS["formula"] or len(row_filter) > MAX_LENGTHS["row_filter"]:
        return []  # refused for its length by kpi_spec_check; compiling it would only repeat that
    schema = dataset_schema(dataset)
    if schema is None:
        standard = ", ".join(sorted(STANDARD_SCHEMAS))
        return [
            ErrorDetail(
                f"unknown dataset {dataset[:48]!r}: use one the engagement declares or a standard one ({standard})",
                "dataset",
                "unknown_dataset",
            )
        ]
    if not formula:
        return [ErrorDetail("A KPI computed from a dataset needs a formula.", "formula", "required")]
    try:
        formula_compile(expression=formula, schema=schema, row_filter=row_filter or None)
    except PactboardError as exc:
        return [
            ErrorDetail(d.message, "row_filter" if d.location == "row_filter" else "formula", d.code)
            for d in (exc.details or [ErrorDetail(exc.message, None, "invalid_formula")])
        ]
    return []
