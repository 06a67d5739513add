"""The engagement document's pydantic models and the field types they are built from.

Field types read numbers and dates typed where text is expected as their text, refuse numbers
where a date is expected, and keep control characters out of names and free text.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from pactboard.formulas.schema import COLUMN_TYPES, STANDARD_SCHEMAS

FORMAT_VERSION = 1
SCHEMA_PATH = "/schemas/engagement.schema.json"

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
    incentives: dict[str, Any] | None = Field(
        default=None,
        description=(
            "The incentive scheme agreed with the KPIs (credits, bonuses, caps, earn-back, renewal rule), "
            "as docs/incentives.md describes it; amounts and percentages as text, e.g. '12.5'."
        ),
    )


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())
