"""The engagement document: exact YAML round trips (property tests), every refusal message, the JSON Schema.

Pure: no database. ``documents()`` generates valid documents; the CLI tests reuse it against
the database.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pactboard.core.errors import PactboardError
from pactboard.documents.spec import (
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
    dataset_schema,
    dataset_spec_from_declared,
    document_check,
    document_dump,
    document_json_schema_text,
    document_load,
    document_parse,
    document_warnings,
    kpi_fields,
    kpi_spec_from_content,
)
from pactboard.formulas.schema import COLUMN_TYPES, STANDARD_SCHEMAS
from pactboard.kpis.catalogue import CATALOGUE, CatalogueKpi

ROOT = Path(__file__).resolve().parents[2]
DEMO_FILES = sorted((ROOT / "pactboard" / "demo" / "engagements").glob("*.yaml"))

# --- strategies -------------------------------------------------------------------------------

# Free text: any printable character, tabs and line breaks included.
_TEXT_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), include_characters="\n\t")
_LINE_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"))
TRICKY = st.sampled_from(
    ["yes", "no", "null", "~", "true", "2025-05-01", "12", "1.5", "0x1F", "- a", "a: b", "#x", "'q'", '"dq"', "*x"]
)


def text(max_size: int = 60) -> st.SearchStrategy[str]:
    return st.one_of(TRICKY, st.text(_TEXT_CHARS, min_size=1, max_size=max_size))


def line(max_size: int) -> st.SearchStrategy[str]:
    """One line, as the document keeps it: no outer white space."""
    return st.one_of(TRICKY, st.text(_LINE_CHARS, min_size=1, max_size=max_size)).map(str.strip).filter(bool)


def decimals(low: Decimal, high: Decimal, places: int = 6) -> st.SearchStrategy[Decimal]:
    return st.integers(0, places).flatmap(
        lambda p: st.decimals(min_value=low, max_value=high, places=p, allow_nan=False, allow_infinity=False)
    )


KEYS = st.from_regex(r"[a-z][a-z0-9-]{0,11}", fullmatch=True)
CODES = st.from_regex(r"k_[a-z0-9_]{1,20}", fullmatch=True)  # never a catalogue code


# Names no standard dataset has (so a catalogue KPI's formula still reads the standard one), and
# column names no SQL keyword has (so a generated row filter can name them bare).
DATASET_NAMES = st.from_regex(r"ds[-_][a-z0-9_]{1,12}", fullmatch=True)
COLUMN_NAMES = st.from_regex(r"c_[a-z0-9_]{0,12}", fullmatch=True)


@st.composite
def datasets(draw: st.DrawFn, *, name: str) -> DatasetSpec:
    """A valid declaration: a standard schema (under its own name or another), or columns of its own."""
    if draw(st.booleans()):
        standard = draw(st.sampled_from(sorted(STANDARD_SCHEMAS)))
        return DatasetSpec(
            name=draw(st.sampled_from([name, standard])),
            standard=standard,
            description=draw(st.none() | text()),
        )
    names = draw(st.lists(COLUMN_NAMES, min_size=1, max_size=4, unique=True))
    return DatasetSpec(
        name=name,
        description=draw(st.none() | text()),
        time_column=draw(st.sampled_from(names)),
        columns=[
            DatasetColumnSpec(
                name=column,
                type=draw(st.sampled_from(COLUMN_TYPES)),
                nullable=draw(st.booleans()),
                description=draw(st.none() | line(200)),
            )
            for column in names
        ],
    )


def _unique_names(specs: list[DatasetSpec]) -> bool:
    return len({d.name for d in specs}) == len(specs)


def _bounds(standard: CatalogueKpi | None, low: Decimal | None, high: Decimal | None) -> tuple[Decimal, Decimal]:
    lo = standard.min_value if standard else low
    hi = standard.max_value if standard else high
    # Room of 10 on each side, so thresholds at most 9.999 away stay within the KPI's range.
    return (lo + 10 if lo is not None else Decimal(-100000)), (hi - 10 if hi is not None else Decimal(100000))


@st.composite
def kpis(
    draw: st.DrawFn,
    *,
    code: str | None,
    keys: list[str],
    start: date,
    end: date,
    declared: Sequence[DatasetSpec] = (),
) -> KpiSpec:
    standard = draw(st.none() | st.sampled_from(CATALOGUE))
    if standard is None:
        direction = draw(st.sampled_from(["higher", "lower"]))
        low, high = draw(st.sampled_from([(None, None), (Decimal(0), None), (Decimal(0), Decimal(100))]))
        own: dict[str, Any] = {
            "name": draw(line(120)),
            "category": draw(st.sampled_from(["operational", "quality", "financial", "customer_satisfaction"])),
            "unit": draw(line(24)),
            "direction": direction,
            "period": draw(st.sampled_from(["week", "month", "quarter"])),
            "min_value": low,
            "max_value": high,
        }
        source = draw(
            st.sampled_from(["manual", "import", "api"]).map(lambda kind: KpiSourceSpec(kind=kind))
            | st.sampled_from([None, "channel = 'phone'"]).map(
                lambda f: KpiSourceSpec(kind="dataset", dataset="contacts", formula="count(*)", filter=f)
            )
        )
        own_dataset = draw(st.booleans())
        if declared and own_dataset:
            # A formula over one of the document's own datasets, its filter naming one of its columns.
            dataset = draw(st.sampled_from(list(declared)))
            schema = dataset_schema(dataset)
            assert schema is not None
            column = draw(st.sampled_from(schema.column_names))
            source = KpiSourceSpec(
                kind="dataset",
                dataset=dataset.name,
                formula="count(*)",
                filter=draw(st.sampled_from([None, f"{column} is not null"])),
            )
    else:
        direction = standard.direction
        low = high = None
        own = {"name": draw(st.none() | line(120)), "period": draw(st.none() | st.sampled_from(["week", "quarter"]))}
        source = KpiSourceSpec(kind=draw(st.sampled_from(["manual", "import", "api", "dataset"])))
    lo, hi = _bounds(standard, low, high)
    sign = 1 if direction == "higher" else -1
    delta = decimals(Decimal("0.001"), Decimal("9.999"), 3)

    def levels() -> tuple[Decimal, Decimal | None, Decimal | None]:
        target = draw(decimals(lo, hi))
        amber = draw(st.none() | delta.map(lambda d: target - sign * d))
        stretch = draw(st.none() | delta.map(lambda d: target + sign * d))
        return target, amber, stretch

    target, amber, stretch = levels()
    days = (end - start).days
    milestone_days = draw(st.lists(st.integers(0, days), max_size=3, unique=True))
    milestones = []
    for offset in sorted(milestone_days):
        m_target, m_amber, m_stretch = levels()
        milestones.append(
            MilestoneSpec(
                date=start + timedelta(days=offset),
                target=m_target,
                amber=m_amber,
                stretch=m_stretch,
                note=draw(st.none() | line(200)),
            )
        )
    baseline = draw(
        st.none()
        | st.builds(
            BaselineSpec,
            value=st.none() | decimals(Decimal(-1000), Decimal(1000)),
            period=st.none() | line(40),
            source=st.none() | text(),
        )
    )
    return KpiSpec(
        code=code,
        catalogue=standard.code if standard else None,
        objectives=draw(st.lists(st.sampled_from(keys), min_size=1, max_size=len(keys), unique=True)),
        definition=draw(st.none() | text()),
        target=target,
        thresholds=None if amber is None and stretch is None else ThresholdsSpec(amber=amber, stretch=stretch),
        weight=draw(decimals(Decimal("0.001"), Decimal("100"), 3)),
        baseline=baseline,
        milestones=milestones,
        source=source,
        active=draw(st.booleans()),
        **own,
    )


@st.composite
def documents(
    draw: st.DrawFn,
    *,
    name: str | None = None,
    client: str | None = None,
    provider: str | None = None,
    owners: tuple[str, ...] = (),
    effective: bool = False,
    min_kpis: int = 0,
) -> Document:
    """A valid document; the keyword arguments pin what a database test needs."""
    start = draw(st.dates(date(2020, 1, 1), date(2030, 12, 31)))
    end = start + timedelta(days=draw(st.integers(0, 1500)))
    keys = draw(st.lists(KEYS, min_size=1, max_size=3, unique=True))
    objectives = [
        ObjectiveSpec(
            key=key,
            horizon=draw(st.sampled_from(["short", "long"])),
            statement=draw(line(300)),
            measure=draw(st.none() | line(200)),
            target=draw(st.none() | line(120)),
            deadline=draw(st.none() | st.dates(date(2020, 1, 1), date(2035, 12, 31))),
            owner=draw(st.none() | st.sampled_from(owners)) if owners else None,
            relevance=draw(st.none() | text()),
        )
        for key in keys
    ]
    dataset_names = draw(st.lists(DATASET_NAMES, max_size=2, unique=True))
    declared = draw(st.tuples(*(datasets(name=n) for n in dataset_names)).map(list).filter(_unique_names))
    codes = draw(st.lists(CODES, min_size=min_kpis, max_size=3, unique=True))
    kpi_list = [draw(kpis(code=code, keys=keys, start=start, end=end, declared=declared)) for code in codes]
    effective_from = start + timedelta(days=draw(st.integers(0, (end - start).days)))
    agreement = (
        AgreementSpec(effective_from=effective_from, note=draw(st.none() | text()))
        if effective
        else draw(st.none() | st.builds(AgreementSpec, effective_from=st.none() | st.just(effective_from)))
    )
    return Document(
        pactboard=1,
        engagement=EngagementSpec(
            name=name or draw(line(200)),
            client=client or draw(line(200)),
            provider=provider or draw(line(200)),
            scope=draw(st.none() | text(300)),
            start_date=start,
            end_date=end,
            currency=draw(st.sampled_from(["EUR", "USD", "GBP", "PHP"])),
            monthly_fee=draw(decimals(Decimal(0), Decimal("999999999999"), 2)),
            time_zone=draw(st.sampled_from(["UTC", "Europe/Berlin", "Asia/Manila", "America/New_York"])),
            review_cadence=draw(st.sampled_from(["weekly", "monthly", "quarterly"])),
            report_cadence=draw(st.sampled_from(["weekly", "monthly", "quarterly"])),
            status=draw(st.none() | st.sampled_from(["draft", "active", "ended"])),
            max_active_kpis=draw(st.integers(1, 99)),
        ),
        datasets=declared,
        objectives=objectives,
        kpis=kpi_list,
        agreement=agreement,
    )


# --- round trips -----------------------------------------------------------------------------


@given(documents())
@settings(max_examples=150, deadline=None)
def test_generated_documents_are_valid_and_round_trip_to_the_same_bytes(document: Document) -> None:
    assert document_check(document) == []
    text = document_dump(document)
    loaded = document_load(text)
    assert loaded == document
    assert document_dump(loaded) == text


@given(documents())
@settings(max_examples=100, deadline=None)
def test_a_stored_kpi_exports_to_an_entry_that_stores_the_same(document: Document) -> None:
    # What the database keeps (catalogue defaults filled in) comes back as a document entry that
    # fills in to the same fields, and writes out the same way the second time.
    for kpi in document.kpis:
        stored = _as_stored(kpi)
        exported = kpi_spec_from_content(stored)
        assert _as_stored(exported) == stored
        assert kpi_spec_from_content(_as_stored(exported)) == exported


def _as_stored(kpi: KpiSpec) -> dict[str, Any]:
    content = kpi_fields(kpi)
    content["objectives"] = sorted(kpi.objectives)
    content["milestones"] = [
        {"date": m.date, "target": m.target, "amber": m.amber, "stretch": m.stretch, "note": m.note or ""}
        for m in kpi.milestones
    ]
    return content


@given(st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-(10**13), max_value=10**13))
@settings(deadline=None)  # correctness, not speed: a busy CI machine must not fail it on time
def test_numbers_are_written_and_read_exactly(value: Decimal) -> None:
    # Types only (document_parse): any value must survive, whatever the thresholds say of it.
    document = document_parse(MINIMAL.replace("target: 300", f"target: {value}"))
    assert document.kpis[0].target == value
    dumped = document_dump(document)
    written = dumped.split("target: ")[1].split("\n")[0]
    assert re.fullmatch(r"-?\d+(\.\d+)?", written)
    assert document_parse(dumped).kpis[0].target == value


def test_fractions_are_read_from_their_text_never_through_float() -> None:
    document = document_parse(MINIMAL.replace("target: 300", "target: 0.1000000").replace("weight: 2", "weight: 0.1"))
    assert document.kpis[0].target == Decimal("0.1")
    assert str(document.kpis[0].weight) == "0.1"  # float(0.1) would be 0.1000000000000000055...
    assert "target: 0.1\n" in document_dump(document)


def test_money_keeps_two_decimals() -> None:
    assert "monthly_fee: 412500.00\n" in document_dump(document_load(MINIMAL))


@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda p: p.name)
def test_demo_documents_are_valid_and_written_exactly_as_dumped(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert document_dump(document_load(text)) == text


def test_there_are_three_demo_documents_each_with_a_baseline_and_a_milestone_per_kpi() -> None:
    assert [p.name for p in DEMO_FILES] == ["customer-support.yaml", "data-entry.yaml", "inside-sales.yaml"]
    for path in DEMO_FILES:
        document = document_load(path.read_text(encoding="utf-8"))
        assert document.kpis
        for kpi in document.kpis:
            assert kpi.baseline is not None
            assert kpi.baseline.value is not None
            assert kpi.thresholds is not None
            assert kpi.thresholds.amber is not None
            assert kpi.thresholds.stretch is not None
        assert any(k.milestones for k in document.kpis)


def test_catalogue_fills_what_the_entry_leaves_out() -> None:
    kpi = document_load(MINIMAL).kpis[1]
    fields = kpi_fields(kpi)
    standard = next(k for k in CATALOGUE if k.code == "first_contact_resolution")
    assert fields["code"] == "first_contact_resolution"
    assert (fields["name"], fields["direction"], fields["formula"], fields["row_filter"]) == (
        standard.name,
        "higher",
        standard.formula,
        standard.row_filter,
    )
    assert fields["max_value"] == Decimal(100)


# --- refusals --------------------------------------------------------------------------------

MINIMAL = textwrap.dedent(
    """\
    pactboard: 1
    engagement:
      name: Support
      client: Acme Retail
      provider: Helpline BPO
      start_date: 2026-01-01
      end_date: 2027-12-31
      currency: EUR
      monthly_fee: 412500
      time_zone: Europe/Berlin
    objectives:
      - key: speed
        statement: Answer quickly
        owner: carla@acme.example
    kpis:
      - code: aht
        name: Average handle time
        objectives: [speed]
        category: operational
        unit: seconds
        direction: lower
        period: month
        target: 300
        thresholds: {amber: 330, stretch: 280}
        weight: 2
        milestones:
          - {date: 2026-06-30, target: 320}
      - catalogue: first_contact_resolution
        objectives: [speed]
        target: 75
        source:
          kind: dataset
    agreement:
      effective_from: 2026-01-01
    """
)


def _refusal(text: str) -> list[str]:
    with pytest.raises(PactboardError) as caught:
        document_load(text)
    assert caught.value.message.startswith("The engagement document was refused")
    assert caught.value.message.endswith("nothing was changed.")
    return [str(d) for d in caught.value.details]


def _refusal_codes(text: str) -> list[str | None]:
    with pytest.raises(PactboardError) as caught:
        document_load(text)
    return [d.code for d in caught.value.details]


def test_the_minimal_document_is_valid() -> None:
    document = document_load(MINIMAL)
    assert [kpi_fields(k)["code"] for k in document.kpis] == ["aht", "first_contact_resolution"]
    assert document_warnings(document) == []


REFUSALS: list[tuple[str, str, str, str]] = [
    # (id, text replaced, replacement, the exact line reported)
    ("version", "pactboard: 1", "pactboard: 2", "pactboard: must be 1"),
    (
        "missing field",
        "  currency: EUR\n",
        "",
        "engagement.currency: this field is required",
    ),
    (
        "unknown field",
        "thresholds: {amber",
        "tresholds: {amber",
        "kpis[0].tresholds: unknown field (allowed here: code, catalogue, name, objectives, category, unit, "
        "direction, period, definition, target, thresholds, weight, baseline, milestones, source, min_value, "
        "max_value, active)",
    ),
    ("literal", "direction: lower", "direction: down", "kpis[0].direction: must be 'higher' or 'lower'"),
    (
        "code pattern",
        "code: aht",
        "code: AHT",
        "kpis[0].code: use 2–48 lower-case letters, digits and underscores, starting with a letter",
    ),
    (
        "objective key pattern",
        "key: speed",
        "key: speed fast",
        "objectives[0].key: use letters, digits, hyphens and underscores only",
    ),
    (
        "currency",
        "currency: EUR",
        "currency: euro",
        "engagement.currency: use a three-letter ISO 4217 code such as EUR or USD",
    ),
    ("owner", "owner: carla@acme.example", "owner: carla", "objectives[0].owner: must be an e-mail address"),
    (
        "time zone",
        "time_zone: Europe/Berlin",
        "time_zone: Berlin",
        "engagement.time_zone: unknown time zone 'Berlin': use an IANA name such as Europe/Berlin or America/New_York",
    ),
    (
        "date as number",
        "start_date: 2026-01-01",
        "start_date: 20260101",
        "engagement.start_date: write the date as YYYY-MM-DD",
    ),
    (
        "not a date",
        "start_date: 2026-01-01",
        "start_date: soon",
        "engagement.start_date: must be a date written YYYY-MM-DD",
    ),
    (
        "decimal places",
        "target: 300",
        "target: 300.0000001",
        "kpis[0].target: must have no more than 6 decimal places",
    ),
    ("infinity", "target: 300", "target: .inf", "kpis[0].target: must be a finite number"),
    ("not a number", "target: 300", "target: lots", "kpis[0].target: must be a number"),
    ("boolean number", "target: 300", "target: true", "kpis[0].target: must be a number"),
    ("weight", "weight: 2", "weight: 0", "kpis[0].weight: must be greater than 0"),
    (
        "fee",
        "monthly_fee: 412500",
        "monthly_fee: 412500.125",
        "engagement.monthly_fee: must have no more than 2 decimal places",
    ),
    (
        "control character",
        "name: Support",
        'name: "Sup\\x07port"',
        "engagement.name: must not contain control characters or line breaks",
    ),
    ("empty", "statement: Answer quickly", 'statement: ""', "objectives[0].statement: must not be empty"),
    ("too long", "name: Support", "name: " + "S" * 201, "engagement.name: must be at most 200 characters long"),
    ("objectives not a list", "objectives: [speed]", "objectives: speed", "kpis[0].objectives: must be a valid list"),
    (
        "end before start",
        "end_date: 2027-12-31",
        "end_date: 2025-12-31",
        "engagement.end_date: must be on or after the start date (2026-01-01)",
    ),
    (
        "amber on the wrong side",
        "thresholds: {amber: 330, stretch: 280}",
        "thresholds: {amber: 290, stretch: 280}",
        "kpis[0].thresholds.amber: must be above the target for a lower-is-better KPI (amber 290, target 300)",
    ),
    (
        "stretch on the wrong side",
        "thresholds: {amber: 330, stretch: 280}",
        "thresholds: {amber: 330, stretch: 300}",
        "kpis[0].thresholds.stretch: must be below the target for a lower-is-better KPI (stretch 300, target 300)",
    ),
    (
        "milestone amber on the wrong side",
        "{date: 2026-06-30, target: 320}",
        "{date: 2026-06-30, target: 320, amber: 310}",
        "kpis[0].milestones[0].amber: must be above the target for a lower-is-better KPI (amber 310, target 320)",
    ),
    (
        "milestones on the same day",
        "{date: 2026-06-30, target: 320}",
        "{date: 2026-06-30, target: 320}\n      - {date: 2026-06-30, target: 310}",
        "kpis[0].milestones[1].date: another milestone has the same date",
    ),
    (
        "milestone outside the engagement",
        "{date: 2026-06-30, target: 320}",
        "{date: 2028-06-30, target: 320}",
        "kpis[0].milestones[0].date: must fall within the engagement (2026-01-01 to 2027-12-31)",
    ),
    (
        "unknown objective",
        "objectives: [speed]\n    category",
        "objectives: [speed, xyz]\n    category",
        "kpis[0].objectives[1]: unknown objective 'xyz' (known: speed)",
    ),
    (
        "objective listed twice",
        "objectives: [speed]\n    category",
        "objectives: [speed, speed]\n    category",
        "kpis[0].objectives[1]: the objective 'speed' is listed twice",
    ),
    (
        "no objective",
        "objectives: [speed]\n    category",
        "objectives: []\n    category",
        "kpis[0].objectives: link the KPI to at least one objective (a key from 'objectives')",
    ),
    (
        "duplicate objective key",
        "    owner: carla@acme.example\n",
        "    owner: carla@acme.example\n  - key: speed\n    statement: Again\n",
        "objectives[1].key: another objective already has the key 'speed'",
    ),
    (
        "duplicate KPI code",
        "  - catalogue: first_contact_resolution\n",
        "  - catalogue: first_contact_resolution\n    code: aht\n",
        "kpis[1].code: another KPI already has the code 'aht'",
    ),
    (
        "unknown catalogue KPI",
        "catalogue: first_contact_resolution",
        "catalogue: first_call_resolution",
        "kpis[1].catalogue: no standard KPI has the code 'first_call_resolution' (known: "
        + ", ".join(k.code for k in CATALOGUE)
        + ")",
    ),
    (
        "custom KPI without a name",
        "    name: Average handle time\n",
        "",
        "kpis[0].name: this field is required for a KPI not taken from the catalogue",
    ),
    (
        "custom KPI without code or catalogue",
        "  - code: aht\n    name",
        "  - name",
        "kpis[0].code: this field is required for a KPI not taken from the catalogue",
    ),
    (
        "target above the range",
        "    target: 75\n",
        "    target: 101\n",
        "kpis[1].target: 101 is above the highest value this KPI allows (100)",
    ),
    (
        "amber below the range",
        "    target: 75\n",
        "    target: 75\n    thresholds: {amber: -1}\n",
        "kpis[1].thresholds.amber: -1 is below the lowest value this KPI allows (0)",
    ),
    (
        "range upside down",
        "    target: 75\n",
        "    target: 75\n    min_value: 75\n    max_value: 75\n",
        "kpis[1].min_value: must be below the highest possible value (75)",
    ),
    (
        "unknown dataset",
        "      kind: dataset\n",
        "      kind: dataset\n      dataset: calls\n",
        "kpis[1].source.dataset: unknown dataset ('calls'): use one of availability, backlog_snapshots, contacts, "
        "invoices, leads, outages, qa_samples, work_items, work_log",
    ),
    (
        "dataset without a formula",
        "    weight: 2\n",
        "    weight: 2\n    source: {kind: dataset, dataset: contacts}\n",
        "kpis[0].source.formula: A KPI computed from a dataset needs a formula",
    ),
    (
        "formula naming an unknown column",
        "      kind: dataset\n",
        "      kind: dataset\n      formula: avg(wait_seconds)\n",
        "kpis[1].source.formula: unknown column 'wait_seconds'",
    ),
    (
        "row filter that does not compile",
        "      kind: dataset\n",
        "      kind: dataset\n      filter: channel = \n",
        "kpis[1].source.filter: ",
    ),
    (
        "effective date outside the engagement",
        "effective_from: 2026-01-01",
        "effective_from: 2025-01-01",
        "agreement.effective_from: must fall within the engagement (2026-01-01 to 2027-12-31)",
    ),
    (
        "not a mapping",
        MINIMAL,
        "- just\n- a list\n",
        "the document must be a YAML mapping that starts with 'pactboard: 1'",
    ),
    (
        "duplicate key",
        "  currency: EUR\n",
        "  currency: EUR\n  currency: USD\n",
        "line 9, column 3: while reading a mapping: found the key 'currency' twice",
    ),
    (
        "YAML syntax",
        "objectives: [speed]\n    category",
        "objectives: [speed\n    category",
        "line 19, column 13: while parsing a flow sequence: expected ',' or ']', but got ':'",
    ),
]


# The code each refusal carries (docs/engagement-as-code.md, "Refusal codes"), and where it comes from.
# "pydantic" rows: yaml_io passes pydantic's error type through (a Literal fails as literal_error, a
# StringConstraints pattern as string_pattern_mismatch, a ValueError raised by a validator as value_error, ...).
REFUSAL_CODES: dict[str, str] = {
    "version": "literal_error",  # pydantic: pactboard is Literal[1]
    "missing field": "missing",  # pydantic
    "unknown field": "extra_forbidden",  # pydantic: the models forbid extra fields
    "literal": "literal_error",  # pydantic: Direction is a Literal
    "code pattern": "string_pattern_mismatch",  # pydantic: Code's pattern
    "objective key pattern": "string_pattern_mismatch",  # pydantic: ObjectiveKey's pattern
    "currency": "string_pattern_mismatch",  # pydantic: ^[A-Z]{3}$
    "owner": "string_pattern_mismatch",  # pydantic: Email's pattern
    "time zone": "value_error",  # pydantic: the time_zone validator raises ValueError
    "date as number": "value_error",  # pydantic: _no_number_dates raises ValueError
    "not a date": "date_from_datetime_parsing",  # pydantic: a string that is no date
    "decimal places": "decimal_max_places",  # pydantic: Number has decimal_places=6
    "infinity": "finite_number",  # pydantic: allow_inf_nan=False
    "not a number": "decimal_parsing",  # pydantic: a string that is no Decimal
    "boolean number": "decimal_type",  # pydantic: a bool is not a Decimal's input type
    "weight": "greater_than",  # pydantic: weight gt=0
    "fee": "decimal_max_places",  # pydantic: monthly_fee decimal_places=2
    "control character": "string_pattern_mismatch",  # pydantic: Line's pattern
    # pydantic: Field(min_length=1, max_length=200) around Line (its own StringConstraints) is checked as a
    # length of the value, not of a string: too_short, too_long (both handled by yaml_io._message)
    "empty": "too_short",
    "too long": "too_long",
    "objectives not a list": "list_type",  # pydantic
    "end before start": "end_before_start",  # new word: an end before the start (the same day is allowed)
    "amber on the wrong side": "amber_not_worse_than_target",  # scoring's thresholds check
    "stretch on the wrong side": "stretch_not_better_than_target",  # scoring's thresholds check
    "milestone amber on the wrong side": "amber_not_worse_than_target",  # the same check on a milestone
    "milestones on the same day": "duplicate_milestone",  # scoring's milestones check
    "milestone outside the engagement": "date_outside_engagement",  # any date outside the engagement's dates
    "unknown objective": "unknown_objective",  # as drafting a KPI names an objective of no engagement
    "objective listed twice": "duplicate_objective",  # new word: one objective linked twice by one KPI
    "no objective": "required",  # as drafting a KPI without objectives (kpis.services)
    "duplicate objective key": "duplicate_key",  # new word: two objectives with one key
    "duplicate KPI code": "duplicate_code",  # as two KPIs of one version with one code (kpis.services)
    "unknown catalogue KPI": "unknown_catalogue_kpi",
    "custom KPI without a name": "required",
    "custom KPI without code or catalogue": "required",
    "target above the range": "out_of_range",  # outside the KPI's min/max
    "amber below the range": "out_of_range",  # outside the KPI's min/max
    "range upside down": "min_not_below_max",
    "unknown dataset": "unknown_dataset",  # kpis.spec's word
    "dataset without a formula": "required",  # kpis.spec's word
    "formula naming an unknown column": "formula_unknown_column",  # the formula checker's
    "row filter that does not compile": "formula_syntax",  # the formula checker's: sqlglot cannot parse it
    "effective date outside the engagement": "date_outside_engagement",  # as proposing with such a date
    "not a mapping": "not_a_mapping",  # new word: YAML that is no mapping (a list, a number, text)
    "duplicate key": "yaml",  # the YAML reader's (a key twice is refused while reading)
    "YAML syntax": "yaml",  # the YAML reader's
}


@pytest.mark.parametrize(("name", "old", "new", "expected"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_each_refusal_names_its_path_and_says_what_is_wrong(name: str, old: str, new: str, expected: str) -> None:
    assert old in MINIMAL
    lines = _refusal(MINIMAL.replace(old, new, 1))
    assert len(lines) == 1, lines
    assert lines[0].startswith(expected), lines
    assert _refusal_codes(MINIMAL.replace(old, new, 1)) == [REFUSAL_CODES[name]]


def test_every_refusal_has_its_code_listed() -> None:
    assert set(REFUSAL_CODES) == {r[0] for r in REFUSALS}


# --- datasets the document declares ------------------------------------------------------------

DATASETS = textwrap.dedent(
    """\
    datasets:
      - name: contacts
        standard: contacts
      - name: tickets
        description: ITSM tickets
        time_column: opened_at
        columns:
          - {name: ticket_id, type: text, nullable: false}
          - {name: opened_at, type: timestamp, nullable: false}
          - {name: priority, type: text}
    """
)
TICKETS_KPI = textwrap.indent(
    textwrap.dedent(
        """\
      - code: p1_tickets
        name: P1 tickets opened
        objectives: [speed]
        category: operational
        unit: tickets
        direction: lower
        period: month
        target: 5
        source:
          kind: dataset
          dataset: tickets
          formula: count(*)
          filter: priority = 'P1'
    """
    ),
    "  ",
)
# MINIMAL with two datasets (a standard one, one of its own) and a third KPI, on the dataset of its own.
WITH_DATASETS = MINIMAL.replace("objectives:\n", DATASETS + "objectives:\n", 1).replace(
    "agreement:\n", TICKETS_KPI + "agreement:\n", 1
)
STANDARDS = ", ".join(sorted(STANDARD_SCHEMAS))


def test_a_kpi_on_a_dataset_the_document_declares_is_valid_and_round_trips() -> None:
    document = document_load(WITH_DATASETS)
    assert [d.name for d in document.datasets] == ["contacts", "tickets"]
    tickets = document.datasets[1]
    assert (tickets.time_column, [c.nullable for c in tickets.columns or []]) == ("opened_at", [False, False, True])
    assert kpi_fields(document.kpis[2])["dataset"] == "tickets"
    text = document_dump(document)
    assert DATASETS in text  # written as the docs show it: columns on one line each
    assert "&id" not in text  # two KPIs share the default weight: written twice, not as a YAML alias
    assert document_dump(document_load(text)) == text


def test_without_datasets_the_section_is_left_out() -> None:
    assert "datasets" not in document_dump(document_load(MINIMAL))


def test_the_documents_own_dataset_comes_before_the_standard_one_of_that_name() -> None:
    # Declared with columns of its own, 'contacts' has no first_contact_resolved for the catalogue's FCR formula.
    own_contacts = MINIMAL.replace(
        "objectives:\n",
        "datasets:\n  - name: contacts\n    time_column: opened_at\n    columns:\n"
        "      - {name: opened_at, type: timestamp}\n"
        "objectives:\n",
        1,
    )
    lines = _refusal(own_contacts)
    assert len(lines) == 1
    assert lines[0].startswith("kpis[1].source.formula: unknown column 'first_contact_resolved' (declared: opened_at)")


DATASET_REFUSALS: list[tuple[str, str, str, str]] = [
    # (id, text replaced in WITH_DATASETS, replacement, the exact line reported)
    (
        "unknown column type",
        "{name: priority, type: text}",
        "{name: priority, type: money}",
        "datasets[1].columns[2].type: unknown type 'money' (use one of: " + ", ".join(COLUMN_TYPES) + ")",
    ),
    (
        "dataset name twice",
        "    standard: contacts\n",
        "    standard: contacts\n  - name: contacts\n    standard: leads\n",
        "datasets[1].name: another dataset already has the name 'contacts'",
    ),
    (
        "dataset name pattern",
        "  - name: tickets\n",
        "  - name: ITSM tickets\n",
        "datasets[1].name: use letters, digits, hyphens and underscores only",
    ),
    (
        "standard and columns",
        "    description: ITSM tickets\n",
        "    standard: work_items\n    description: ITSM tickets\n",
        "datasets[1]: give either standard or columns, not both",
    ),
    (
        "neither standard nor columns",
        "    standard: contacts\n",
        "    description: Calls and chats\n",
        "datasets[0]: give standard (a standard schema) or columns of its own",
    ),
    (
        "unknown standard",
        "    standard: contacts\n",
        "    standard: calls\n",
        f"datasets[0].standard: no standard dataset 'calls' (use one of: {STANDARDS})",
    ),
    (
        "time column with a standard",
        "    standard: contacts\n",
        "    standard: contacts\n    time_column: opened_at\n",
        "datasets[0].time_column: only with columns of its own: a standard schema has its time column",
    ),
    (
        "time column missing",
        "    time_column: opened_at\n",
        "",
        "datasets[1].time_column: this field is required with columns of its own",
    ),
    (
        "time column not a column",
        "    time_column: opened_at\n",
        "    time_column: closed_at\n",
        "datasets[1].time_column: 'closed_at' is not one of the columns (ticket_id, opened_at, priority)",
    ),
    (
        "column name pattern",
        "{name: ticket_id,",
        "{name: ticket-id,",
        "datasets[1].columns[0].name: use letters, digits and underscores (at most 64), starting with a letter or "
        "underscore",
    ),
    (
        "column name twice",
        "{name: priority, type: text}",
        "{name: ticket_id, type: text}",
        "datasets[1].columns[2].name: another column already has the name 'ticket_id'",
    ),
    (
        "no columns",
        "    columns:\n      - {name: ticket_id, type: text, nullable: false}\n"
        "      - {name: opened_at, type: timestamp, nullable: false}\n      - {name: priority, type: text}\n",
        "    columns: []\n",
        "datasets[1].columns: declare at least one column",
    ),
    (
        "unknown dataset field",
        "    description: ITSM tickets\n",
        "    descr: ITSM tickets\n",
        "datasets[1].descr: unknown field (allowed here: name, standard, description, time_column, columns)",
    ),
    (
        "unknown column field",
        "{name: priority, type: text}",
        "{name: priority, type: text, required: true}",
        "datasets[1].columns[2].required: unknown field (allowed here: name, type, nullable, description)",
    ),
    (
        "unknown dataset, both kinds listed",
        "      dataset: tickets\n",
        "      dataset: incidents\n",
        "kpis[2].source.dataset: unknown dataset ('incidents'): use one of the document's datasets "
        f"(contacts, tickets) or a standard one ({STANDARDS})",
    ),
    (
        "formula checked against the declared columns",
        "      formula: count(*)\n      filter",
        "      formula: avg(handle_seconds)\n      filter",
        "kpis[2].source.formula: unknown column 'handle_seconds' (declared: ticket_id, opened_at, priority)",
    ),
    (
        "row filter checked against the declared columns",
        "      filter: priority = 'P1'\n",
        "      filter: severity = 'P1'\n",
        "kpis[2].source.filter: unknown column 'severity' (declared: ticket_id, opened_at, priority)",
    ),
]


DATASET_REFUSAL_CODES: dict[str, str] = {
    "unknown column type": "value_error",  # pydantic: the column type's validator raises ValueError
    "dataset name twice": "duplicate_name",  # new word: two datasets with one name
    "dataset name pattern": "string_pattern_mismatch",  # pydantic
    "standard and columns": "dataset_shape",
    "neither standard nor columns": "dataset_shape",
    "unknown standard": "unknown_dataset",  # kpis.spec's word for a dataset that does not exist
    "time column with a standard": "not_applicable",  # new word: a field given where it has no meaning
    "time column missing": "required",
    "time column not a column": "unknown_column",  # new word: names a column the dataset does not declare
    "column name pattern": "string_pattern_mismatch",  # pydantic
    "column name twice": "duplicate_column",  # as a file's header naming a column twice (measurements)
    "no columns": "required",  # "at least one", as a KPI's objectives
    "unknown dataset field": "extra_forbidden",  # pydantic
    "unknown column field": "extra_forbidden",  # pydantic
    "unknown dataset, both kinds listed": "unknown_dataset",
    "formula checked against the declared columns": "formula_unknown_column",
    "row filter checked against the declared columns": "formula_unknown_column",
}


@pytest.mark.parametrize(("name", "old", "new", "expected"), DATASET_REFUSALS, ids=[r[0] for r in DATASET_REFUSALS])
def test_each_dataset_refusal_names_its_path_and_says_what_is_wrong(
    name: str, old: str, new: str, expected: str
) -> None:
    assert old in WITH_DATASETS
    lines = _refusal(WITH_DATASETS.replace(old, new, 1))
    assert lines == [expected]
    assert _refusal_codes(WITH_DATASETS.replace(old, new, 1)) == [DATASET_REFUSAL_CODES[name]]


def test_every_dataset_refusal_has_its_code_listed() -> None:
    assert set(DATASET_REFUSAL_CODES) == {r[0] for r in DATASET_REFUSALS}


def test_a_dataset_is_written_as_standard_when_its_columns_are_a_standard_schemas() -> None:
    contacts = STANDARD_SCHEMAS["contacts"]
    calls = dataset_spec_from_declared(schema=contacts, description="Standard contacts records.")
    assert calls == DatasetSpec(name="contacts", standard="contacts")
    other = dataset_spec_from_declared(schema=STANDARD_SCHEMAS["leads"], description="From the CRM")
    assert (other.standard, other.description, other.columns) == ("leads", "From the CRM", None)
    own = dataset_spec_from_declared(
        schema=dataset_schema(document_load(WITH_DATASETS).datasets[1]),  # type: ignore[arg-type]
        description="ITSM tickets",
    )
    assert own == document_load(WITH_DATASETS).datasets[1]


def test_every_problem_is_reported_at_once() -> None:
    text = (
        MINIMAL.replace("direction: lower", "direction: down")
        .replace("objectives: [speed]\n    category", "objectives: [xyz]\n    category")
        .replace("end_date: 2027-12-31", "end_date: 2026-03-31")
        .replace("thresholds: {amber: 330, stretch: 280}", "thresholds: {amber: 290, stretch: 280}")
        .replace("effective_from: 2026-01-01", "effective_from: 2027-01-01")
    )
    # A type error stops the checks that need sound types: it alone is reported.
    assert _refusal(text) == ["kpis[0].direction: must be 'higher' or 'lower'"]
    assert _refusal(text.replace("direction: down", "direction: lower")) == [
        "kpis[0].objectives[0]: unknown objective 'xyz' (known: speed)",
        "kpis[0].thresholds.amber: must be above the target for a lower-is-better KPI (amber 290, target 300)",
        "kpis[0].milestones[0].date: must fall within the engagement (2026-01-01 to 2026-03-31)",
        "agreement.effective_from: must fall within the engagement (2026-01-01 to 2026-03-31)",
    ]


def test_all_type_errors_are_reported_at_once_with_their_paths() -> None:
    text = MINIMAL.replace("currency: EUR", "currency: euro").replace("weight: 2", "weight: -1")
    assert _refusal(text.replace("key: speed", "key: a b")) == [
        "engagement.currency: use a three-letter ISO 4217 code such as EUR or USD",
        "objectives[0].key: use letters, digits, hyphens and underscores only",
        "kpis[0].weight: must be greater than 0",
    ]


def test_the_example_of_the_issue_is_reported_word_for_word() -> None:
    lines = _refusal(MINIMAL.replace("thresholds: {amber: 330", "thresholds: {amber: 280"))
    assert lines[0].startswith("kpis[0].thresholds.amber: must be above the target for a lower-is-better KPI")


def test_parse_checks_types_only() -> None:
    document = document_parse(MINIMAL.replace("end_date: 2027-12-31", "end_date: 2025-12-31"))
    assert str(document_check(document)[0]).startswith("engagement.end_date")


def test_too_many_active_kpis_is_a_warning_not_a_refusal() -> None:
    document = document_load(MINIMAL.replace("time_zone: Europe/Berlin", "time_zone: UTC\n  max_active_kpis: 1"))
    assert [str(w) for w in document_warnings(document)] == [
        "kpis: 2 active KPIs: more than the 1 this engagement aims for; too many KPIs dilute attention"
    ]


# --- JSON Schema ------------------------------------------------------------------------------


def test_the_committed_json_schema_is_the_generated_one() -> None:
    committed = (ROOT / "schemas" / "engagement.schema.json").read_text(encoding="utf-8")
    assert committed == document_json_schema_text(), (
        "run: pactboard engagement schema -o schemas/engagement.schema.json"
    )


def test_the_json_schema_describes_the_document() -> None:
    schema = json.loads(document_json_schema_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["pactboard", "engagement"]
    assert schema["additionalProperties"] is False
    kpi = schema["$defs"]["KpiSpec"]
    assert kpi["properties"]["direction"]["anyOf"][0]["enum"] == ["higher", "lower"]
    assert re.fullmatch(kpi["properties"]["code"]["anyOf"][0]["pattern"], "first_contact_resolution")


def test_the_example_in_the_docs_is_a_valid_document() -> None:
    page = (ROOT / "docs" / "engagement-as-code.md").read_text(encoding="utf-8")
    example = page.split("```yaml\n", 1)[1].split("```", 1)[0]
    document = document_load(example)
    assert [kpi_fields(k)["code"] for k in document.kpis] == ["fcr", "first_time_fix"]
    assert document_load(document_dump(document)) == document


def test_a_catalogue_kpi_without_a_source_is_a_warning_that_it_is_entered_by_hand() -> None:
    # Without source.kind the model's default "manual" applies, although the catalogue KPI has a
    # formula over a dataset: the document must say so rather than let it happen silently.
    text = MINIMAL.replace("    source:\n      kind: dataset\n", "")
    document = document_load(text)
    assert kpi_fields(document.kpis[1])["source"] == "manual"
    assert [str(w) for w in document_warnings(document)] == [
        "kpis[1].source.kind: not given, so this catalogue KPI's values are entered by hand (manual); write "
        "kind: dataset to compute them from the contacts dataset by the catalogue's formula, or kind: manual "
        "to keep entering them"
    ]
    # Saying it, either way, is no reason for a warning.
    explicit = text.replace("    target: 75\n", "    target: 75\n    source: {kind: manual}\n")
    assert document_warnings(document_load(explicit)) == []
    assert document_warnings(document_load(MINIMAL)) == []
