"""The engagement document ("engagement as code"): its pydantic models, YAML load and dump, and checks.

Pure: pydantic and PyYAML, no ORM. One YAML document holds an engagement's terms, objectives
and KPI set; ``docs/engagement-as-code.md`` describes it. The same models publish the JSON
Schema (``schemas/engagement.schema.json``, served at ``/schemas/engagement.schema.json``).

Numbers never pass through float: YAML numbers with a fraction are read as ``Decimal`` from
their text, and decimals are written as plain numbers without exponent. Keys come out in the
models' field order and strings in one style, so dumping what was loaded from a dump gives the
same bytes. Every problem is reported at once, located by its path in the document, such as
``kpis[3].thresholds.amber``.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from zoneinfo import available_timezones

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.kpis.catalogue import CATALOGUE, CatalogueKpi
from pactboard.kpis.content import plain_decimal
from pactboard.measurements.formulas import formula_compile
from pactboard.measurements.schema import COLUMN_TYPES, STANDARD_SCHEMAS, Column, DatasetSchema
from pactboard.scoring import Milestone as TermsMilestone
from pactboard.scoring import kpi_terms_check

__all__ = [
    "FORMAT_VERSION",
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

FORMAT_VERSION = 1
SCHEMA_PATH = "/schemas/engagement.schema.json"
HEADER = f"# Pactboard engagement document: docs/engagement-as-code.md, JSON Schema {SCHEMA_PATH}\n"

_BY_CODE: dict[str, CatalogueKpi] = {k.code: k for k in CATALOGUE}

# --- field types -------------------------------------------------------------------------------


def _as_text(value: Any) -> Any:
    """Numbers and dates typed where text is expected (``period: 2025``) are taken as their text."""
    if isinstance(value, bool):
        return value  # refused by the str validation: "yes" vs true is too easy to get wrong
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def _no_number_dates(value: Any) -> Any:
    # pydantic would read 20250501 as seconds since 1970: refuse numbers where a date is expected.
    if isinstance(value, int | Decimal | float) and not isinstance(value, bool):
        raise ValueError("write the date as YYYY-MM-DD")
    return value


# One line of text (names, codes, units): no control characters, outer spaces dropped.
_LINE = r"^[^\x00-\x1f\x7f-\x9f]*$"
# Free text: may span lines and hold tabs; no other control characters.
_TEXT = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$"


Line = Annotated[str, BeforeValidator(_as_text), StringConstraints(strip_whitespace=True, pattern=_LINE)]


Text = Annotated[str, BeforeValidator(_as_text), StringConstraints(pattern=_TEXT)]
Day = Annotated[date, BeforeValidator(_no_number_dates)]
Number = Annotated[Decimal, Field(max_digits=20, decimal_places=6, allow_inf_nan=False)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{1,47}$")]
ObjectiveKey = Annotated[str, StringConstraints(strip_whitespace=True, max_length=60, pattern=r"^[-a-zA-Z0-9_]+$")]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
Cadence = Literal["weekly", "monthly", "quarterly"]
Category = Literal["operational", "quality", "financial", "customer_satisfaction"]
Direction = Literal["higher", "lower"]
Period = Literal["week", "month", "quarter"]
SourceKind = Literal["manual", "import", "api", "dataset"]
DatasetName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=48, pattern=r"^[-a-zA-Z0-9_]+$")]
ColumnName = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]


def _column_type(value: str) -> str:
    if value not in COLUMN_TYPES:
        raise ValueError(f"unknown type {value!r} (use one of: {', '.join(COLUMN_TYPES)})")
    return value


ColumnTypeName = Annotated[
    str,
    BeforeValidator(_as_text),
    StringConstraints(strip_whitespace=True),
    AfterValidator(_column_type),
    Field(json_schema_extra={"enum": list(COLUMN_TYPES)}),
]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- the document ------------------------------------------------------------------------------


class EngagementSpec(_Spec):
    """The engagement: its parties, scope, dates and money. Client, provider and name identify it."""

    name: Annotated[Line, Field(min_length=1, max_length=200)] = Field(
        description="The engagement's name; with client and provider it identifies it."
    )
    client: Annotated[Line, Field(min_length=1, max_length=200)] = Field(description="Name of the client organisation.")
    provider: Annotated[Line, Field(min_length=1, max_length=200)] = Field(
        description="Name of the provider organisation (created if missing)."
    )
    scope: Text | None = Field(
        default=None, description="What work is outsourced: services, volumes, channels, languages."
    )
    start_date: Day
    end_date: Day
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = Field(
        description="ISO 4217 code such as EUR or USD."
    )
    monthly_fee: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False)] = Decimal(0)
    time_zone: str = Field(default="UTC", description="IANA time zone; periods are calendar periods in it.")
    review_cadence: Cadence = "monthly"
    report_cadence: Cadence = "monthly"
    status: Literal["draft", "active", "ended"] | None = Field(
        default=None, description="Lifecycle state; omitted keeps an existing engagement's (a new one starts as draft)."
    )
    max_active_kpis: Annotated[int, Field(ge=1, le=99)] = Field(
        default=8, description="Above this many active KPIs the engagement shows a warning."
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in _time_zones():
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as Europe/Berlin or America/New_York")
        return value


class DatasetColumnSpec(_Spec):
    """One column of a dataset of the engagement's own."""

    name: ColumnName = Field(description="Letters, digits and underscores; formulas name it.")
    type: ColumnTypeName = Field(description=f"One of: {', '.join(COLUMN_TYPES)}.")
    nullable: bool = Field(
        default=True, exclude_if=lambda value: value is True, description="false: every record must give a value."
    )
    description: Annotated[Line, Field(max_length=500)] | None = None


class DatasetSpec(_Spec):
    """A dataset of raw records the engagement declares: a standard schema, or columns of its own.

    KPI formulas read it by name. Importing declares it if the engagement does not have it yet;
    a declared dataset never changes (its uploaded versions depend on it).
    """

    name: DatasetName = Field(description="Unique in the document; KPIs name it in source.dataset.")
    standard: (
        Annotated[Line, Field(min_length=1, max_length=48, json_schema_extra={"enum": sorted(STANDARD_SCHEMAS)})] | None
    ) = Field(default=None, description="A standard schema (e.g. contacts, work_items); or give columns instead.")
    description: Text | None = Field(default=None, description="What the records are and where they come from.")
    time_column: ColumnName | None = Field(
        default=None, description="With columns: the timestamp or date column that decides a record's period."
    )
    columns: list[DatasetColumnSpec] | None = Field(
        default=None, description="The dataset's own columns, when it follows no standard schema."
    )


class ObjectiveSpec(_Spec):
    """A business goal, written SMART. KPIs refer to it by ``key``."""

    key: ObjectiveKey = Field(description="Short name KPIs use to refer to the objective (letters, digits, - and _).")
    horizon: Literal["short", "long"] = "short"
    statement: Annotated[Line, Field(min_length=1, max_length=300)] = Field(description="The goal in one sentence.")
    measure: Annotated[Line, Field(max_length=200)] | None = Field(
        default=None, description="Specific / measurable: what is measured."
    )
    target: Annotated[Line, Field(max_length=120)] | None = Field(
        default=None, description="Achievable: the level to reach, e.g. ≥ 85 %."
    )
    deadline: Day | None = Field(default=None, description="Time-bound: by when.")
    owner: Email | None = Field(
        default=None, description="E-mail of the owner, a member of the client or the provider."
    )
    relevance: Text | None = Field(default=None, description="Relevant: why it matters to the business.")


class ThresholdsSpec(_Spec):
    """Amber: the worst value still 'at risk' rather than missed. Stretch: the level that counts as exceeded."""

    amber: Number | None = None
    stretch: Number | None = None


class BaselineSpec(_Spec):
    """Performance before outsourcing, to compare against."""

    value: Number | None = None
    period: Annotated[Line, Field(max_length=40)] | None = Field(
        default=None, description="e.g. 2025-Q1 or 2024-07..2024-12"
    )
    source: Text | None = Field(default=None, description="Where the baseline comes from.")


class MilestoneSpec(_Spec):
    """A dated interim target, used by the scorecard until its date has passed."""

    date: Day
    target: Number
    amber: Number | None = None
    stretch: Number | None = None
    note: Annotated[Line, Field(max_length=200)] | None = None


class KpiSourceSpec(_Spec):
    """Where the KPI's values come from; ``dataset`` computes them from raw records by a formula."""

    kind: SourceKind = "manual"
    dataset: Annotated[Line, Field(max_length=48)] | None = Field(
        default=None, description="A dataset under datasets, or a standard one, e.g. contacts, qa_samples, leads."
    )
    formula: Text | None = Field(
        default=None, description="Aggregate over the dataset's rows, per period (docs/formulas.md)."
    )
    filter: Text | None = Field(default=None, description="Which rows the formula reads (a SQL condition).")


class KpiSpec(_Spec):
    """One KPI of the agreement. With ``catalogue`` the standard KPI fills every field left out."""

    code: Code | None = Field(default=None, description="Unique in the document; defaults to the catalogue code.")
    catalogue: Annotated[Line, Field(min_length=1, max_length=48)] | None = Field(
        default=None, description="Code of a standard KPI (docs/kpi-catalogue.md)."
    )
    name: Annotated[Line, Field(min_length=1, max_length=120)] | None = None
    objectives: list[ObjectiveKey] = Field(description="Keys of the objectives the KPI measures (at least one).")
    category: Category | None = None
    unit: Annotated[Line, Field(min_length=1, max_length=24)] | None = None
    direction: Direction | None = None
    period: Period | None = None
    definition: Text | None = None
    target: Number
    thresholds: ThresholdsSpec | None = None
    weight: Annotated[Decimal, Field(gt=0, max_digits=8, decimal_places=3, allow_inf_nan=False)] = Decimal(1)
    baseline: BaselineSpec | None = None
    milestones: list[MilestoneSpec] = Field(default_factory=list, exclude_if=lambda value: not value)
    source: KpiSourceSpec = Field(default_factory=lambda: KpiSourceSpec())
    min_value: Number | None = Field(
        default=None, description="Lowest value the KPI can take (e.g. 0 for a percentage)."
    )
    max_value: Number | None = Field(default=None, description="Highest value the KPI can take (e.g. 100).")
    active: bool = Field(
        default=True, exclude_if=lambda value: value is True, description="false: kept but not scored."
    )


class AgreementSpec(_Spec):
    """The agreement version the document becomes."""

    effective_from: Day | None = Field(default=None, description="When it takes effect; required to import as agreed.")
    note: Text | None = Field(default=None, description="What this version changes and why.")


class Document(_Spec):
    """An engagement with its objectives and KPI set, as one document."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Pactboard engagement document",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    pactboard: Literal[1] = Field(description="Version of the document format.")
    engagement: EngagementSpec
    datasets: list[DatasetSpec] = Field(
        default_factory=list,
        exclude_if=lambda value: not value,
        description="Datasets of raw records the engagement declares (standard ones need no entry to be read).",
    )
    objectives: list[ObjectiveSpec] = Field(default_factory=list)
    kpis: list[KpiSpec] = Field(default_factory=list)
    agreement: AgreementSpec | None = None


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


# --- YAML --------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Safe YAML with exact numbers and no silently repeated keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                continue  # an unhashable key: the base constructor reports it
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, f"found the key {key!r} twice", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "").lower()
    special = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}
    if text in special:
        return Decimal(special[text])  # refused later as "must be a finite number"
    if ":" in text:  # YAML 1.1 base 60, e.g. 1:30.5
        sign = -1 if text.startswith("-") else 1
        total = Decimal(0)
        for part in text.lstrip("+-").split(":"):
            total = total * 60 + Decimal(part)
        return sign * total
    try:
        return Decimal(text)
    except InvalidOperation:
        raise yaml.constructor.ConstructorError(
            None, None, f"could not read the number {text!r}", node.start_mark
        ) from None


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


class _Money(Decimal):
    """A money amount: always written with two decimals."""


class _FlowMap(dict[str, Any]):
    """A small mapping written on one line: ``{amber: 70, stretch: 80}``."""


class _FlowList(list[Any]):
    """A short list written on one line: ``[fcr, csat]``."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        # Never "&id001"/"*id001": a default shared by two entries (weight 1) is written out each time.
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as people write YAML.
        return super().increase_indent(flow, False)


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    text = plain_decimal(value) or "0"
    return dumper.represent_scalar("tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int", text)


def _represent_money(dumper: yaml.SafeDumper, value: _Money) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:float", format(Decimal(value).quantize(Decimal("0.01")), "f"))


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Several lines read best as a literal block; PyYAML falls back to quotes where one cannot hold the text.
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


def _represent_flow_map(dumper: yaml.SafeDumper, value: _FlowMap) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=True)


def _represent_flow_list(dumper: yaml.SafeDumper, value: _FlowList) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_Dumper.add_representer(Decimal, _represent_decimal)
_Dumper.add_representer(_Money, _represent_money)
_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_FlowMap, _represent_flow_map)
_Dumper.add_representer(_FlowList, _represent_flow_list)


def document_dump(document: Document) -> str:
    """The document as YAML: fields in model order, empty ones left out, numbers exact."""
    data = document.model_dump(mode="python", exclude_none=True)
    data["engagement"]["monthly_fee"] = _Money(data["engagement"]["monthly_fee"])
    for dataset in data.get("datasets", []):
        if "columns" in dataset:
            dataset["columns"] = [_FlowMap(c) for c in dataset["columns"]]
    for kpi in data["kpis"]:
        kpi["objectives"] = _FlowList(kpi["objectives"])
        if "thresholds" in kpi:
            kpi["thresholds"] = _FlowMap(kpi["thresholds"])
        if "milestones" in kpi:
            kpi["milestones"] = [_FlowMap(m) for m in kpi["milestones"]]
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1_000_000,  # never fold a line: folding is where round trips go wrong
    )
    return HEADER + body


# --- loading and errors ------------------------------------------------------------------------


def _path(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = get_origin(annotation)
    if origin in (list, Union, types.UnionType, Annotated):
        for arg in get_args(annotation):
            found = _submodel(arg)
            if found is not None:
                return found
    return None


def _fields_at(loc: Sequence[str | int]) -> list[str]:
    """The field names allowed at ``loc`` (for "unknown field" messages)."""
    model: type[BaseModel] | None = Document
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        info = model.model_fields.get(part)
        model = _submodel(info.annotation) if info is not None else None
    return list(model.model_fields) if model is not None else []


_PATTERN_MESSAGES = {
    "code": "use 2–48 lower-case letters, digits and underscores, starting with a letter",
    "key": "use letters, digits, hyphens and underscores only",
    "objectives": "use letters, digits, hyphens and underscores only",
    "currency": "use a three-letter ISO 4217 code such as EUR or USD",
    "owner": "must be an e-mail address",
}


def _message(error: Any) -> str:
    kind, loc, msg = error["type"], error["loc"], str(error["msg"])
    field = next((p for p in reversed(loc) if isinstance(p, str)), "")
    if kind == "missing":
        return "this field is required"
    if kind == "extra_forbidden":
        allowed = _fields_at(loc[:-1])
        return "unknown field" + (f" (allowed here: {', '.join(allowed)})" if allowed else "")
    if kind == "string_pattern_mismatch":
        if loc and loc[0] == "datasets" and field in ("name", "time_column"):
            if "columns" in loc or field == "time_column":
                return "use letters, digits and underscores (at most 64), starting with a letter or underscore"
            return "use letters, digits, hyphens and underscores only"
        if field in _PATTERN_MESSAGES:
            return _PATTERN_MESSAGES[field]
        return "must not contain control characters" + ("" if field in {"scope", "relevance"} else " or line breaks")
    if kind in ("too_short", "string_too_short"):
        return "must not be empty"
    if kind in ("too_long", "string_too_long"):
        return f"must be at most {error['ctx']['max_length']} characters long"
    if kind in ("decimal_type", "decimal_parsing", "float_type", "int_type", "int_parsing"):
        return "must be a number"
    if kind.startswith(("date_", "datetime_")):
        return "must be a date written YYYY-MM-DD"
    if kind == "string_type":
        return "must be text (put it in quotes)"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    for prefix in ("Input should", "String should", "List should", "Decimal input should", "Value should"):
        if msg.startswith(prefix):
            return "must" + msg.removeprefix(prefix).replace("should", "must")
    return msg


def _yaml_error(exc: yaml.YAMLError) -> ErrorDetail:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    return ErrorDetail(f"{context}: {problem}" if context else str(problem), where, "yaml")


def _refused(details: list[ErrorDetail]) -> PactboardError:
    count = f"{len(details)} problem" + ("" if len(details) == 1 else "s")
    return PactboardError(f"The engagement document was refused ({count}); nothing was changed.", details)


def document_parse(text: str) -> Document:
    """Read YAML into a ``Document`` (types and shapes only); raise PactboardError listing every problem."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        raise _refused([_yaml_error(exc)]) from None
    if not isinstance(data, dict):
        raise _refused([ErrorDetail("the document must be a YAML mapping that starts with 'pactboard: 1'")])
    try:
        return Document.model_validate(data)
    except ValidationError as exc:
        raise _refused([ErrorDetail(_message(e), _path(e["loc"]) or None, e["type"]) for e in exc.errors()]) from None


def document_load(text: str) -> Document:
    """Read and check a document; raise PactboardError listing every problem, each at its path."""
    document = document_parse(text)
    problems = document_check(document)
    if problems:
        raise _refused(problems)
    return document


# --- KPIs: catalogue defaults, and the fields a KPI version stores --------------------------------


def kpi_fields(kpi: KpiSpec) -> dict[str, Any]:
    """The KPI's stored fields (``VersionKpi`` names), with the catalogue's defaults filled in."""
    standard = _BY_CODE.get(kpi.catalogue or "")
    thresholds = kpi.thresholds or ThresholdsSpec()
    baseline = kpi.baseline or BaselineSpec()

    def pick(value: Any, default: Any) -> Any:
        return default if value in (None, "") else value

    s = standard
    return {
        "code": pick(kpi.code, s.code if s else None),
        "name": pick(kpi.name, s.name if s else None),
        "catalogue_code": kpi.catalogue or "",
        "category": pick(kpi.category, s.category if s else None),
        "unit": pick(kpi.unit, s.unit if s else None),
        "direction": pick(kpi.direction, s.direction if s else None),
        "definition": pick(kpi.definition, s.definition if s else "") or "",
        "period": pick(kpi.period, s.default_period if s else None),
        "target": kpi.target,
        "amber": thresholds.amber,
        "stretch": thresholds.stretch,
        "weight": kpi.weight,
        "baseline_value": baseline.value,
        "baseline_period": baseline.period or "",
        "baseline_source": baseline.source or "",
        "source": kpi.source.kind,
        "dataset": pick(kpi.source.dataset, s.dataset if s else "") or "",
        "formula": pick(kpi.source.formula, s.formula if s else "") or "",
        "row_filter": pick(kpi.source.filter, s.row_filter if s else "") or "",
        "min_value": pick(kpi.min_value, s.min_value if s else None),
        "max_value": pick(kpi.max_value, s.max_value if s else None),
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
    active = sum(1 for k in document.kpis if k.active)
    limit = document.engagement.max_active_kpis
    if active > limit:
        return [
            ErrorDetail(
                f"{active} active KPIs: more than the {limit} this engagement aims for; too many KPIs dilute attention",
                "kpis",
                "too_many_kpis",
            )
        ]
    return []


# --- JSON Schema --------------------------------------------------------------------------------


def document_json_schema() -> dict[str, Any]:
    """The JSON Schema of the document, generated from the models."""
    return Document.model_json_schema()


def document_json_schema_text() -> str:
    """The JSON Schema as committed in ``schemas/engagement.schema.json`` and served by the app."""
    return json.dumps(document_json_schema(), indent=2, ensure_ascii=False) + "\n"
