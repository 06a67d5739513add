"""The KPI catalogue: every formula compiles, and computes the number its definition gives by hand.

Each example builds a small dataset, works the expected value out in the comments from the
entry's definition, and computes it with the engine (formula_compute), in UTC so that the
periods are plain calendar months.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pactboard.core.errors import PactboardError
from pactboard.formulas import formula_compile, formula_compute, formula_growth_vs_previous
from pactboard.formulas.schema import CONTACTS, STANDARD_SCHEMAS, Column, DatasetSchema
from pactboard.kpis.catalogue import CATALOGUE, CatalogueKpi, catalogue_get, catalogue_search

OCT = date(2026, 10, 1)
NOV = date(2026, 11, 1)

REQUIRED = {
    "productivity", "turnaround_time", "first_contact_resolution", "average_handle_time", "service_level",
    "abandonment_rate", "accuracy_rate", "cost_per_contact", "cost_per_acquisition", "revenue_growth", "csat",
    "nps", "backlog", "sla_compliance", "availability",
}  # fmt: skip

_ARROW: dict[str, pa.DataType] = {
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "integer": pa.int64(),
    "decimal": pa.decimal128(18, 2),
    "float": pa.float64(),
    "boolean": pa.bool_(),
    "text": pa.string(),
}


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _write(tmp_path: Path, schema: DatasetSchema, rows: list[dict[str, Any]]) -> Path:
    """Rows as Parquet with the schema's declared types; a column no row mentions is all NULL."""
    path = tmp_path / f"{schema.name}.parquet"
    table = pa.table({c.name: pa.array([r.get(c.name) for r in rows], type=_ARROW[c.type]) for c in schema.columns})
    pq.write_table(table, path)
    return path


def _compute(
    path: Path,
    *,
    formula: str,
    row_filter: str | None = None,
    schema: DatasetSchema = CONTACTS,
) -> dict[date, Decimal | None]:
    compiled = formula_compile(expression=formula, schema=schema, row_filter=row_filter)
    result = formula_compute(
        formulas={"v": compiled}, parquet_paths=[path], schema=schema, period_kind="month", tz="UTC"
    )
    values: dict[date, Decimal | None] = result["v"]
    return values


def _kpi(path: Path, code: str) -> dict[date, Decimal | None]:
    kpi = catalogue_get(code)
    return _compute(path, formula=kpi.formula, row_filter=kpi.row_filter, schema=STANDARD_SCHEMAS[kpi.dataset])


# --- the catalogue as data -----------------------------------------------------------------------


def test_the_catalogue_holds_the_required_kpis_once_each() -> None:
    codes = [kpi.code for kpi in CATALOGUE]
    assert len(codes) == len(set(codes))
    assert codes.count("nps") == 1
    assert set(codes) >= REQUIRED


@pytest.mark.parametrize("kpi", CATALOGUE, ids=lambda kpi: kpi.code)
def test_every_entry_is_complete_and_its_formula_compiles(kpi: CatalogueKpi) -> None:
    schema = STANDARD_SCHEMAS[kpi.dataset]
    compiled = formula_compile(expression=kpi.formula, schema=schema, row_filter=kpi.row_filter)
    assert compiled.columns <= set(schema.column_names)
    assert compiled.to_sql("postgres")
    assert kpi.category in ("operational", "quality", "financial", "customer_satisfaction")
    assert kpi.direction in ("higher", "lower")
    assert kpi.default_period in ("week", "month", "quarter")
    for text in (kpi.name, kpi.unit, kpi.definition, kpi.variant, kpi.source):
        assert text.strip()
    if kpi.min_value is not None and kpi.max_value is not None:
        assert kpi.min_value < kpi.max_value
    if kpi.unit == "%" and kpi.derivation is None:
        assert (kpi.min_value, kpi.max_value) == (Decimal(0), Decimal(100))


def test_the_documentation_shows_every_entry_and_its_formula() -> None:
    text = (Path(__file__).parents[2] / "docs" / "kpi-catalogue.md").read_text(encoding="utf-8")
    for kpi in CATALOGUE:
        assert f"### `{kpi.code}`" in text
        assert f"`{kpi.formula}`" in text
        if kpi.row_filter is not None:
            assert f"row filter `{kpi.row_filter}`" in text


def test_get_and_search() -> None:
    assert catalogue_get("nps").name == "Net Promoter Score (NPS)"
    with pytest.raises(PactboardError) as caught:
        catalogue_get("npss")
    assert caught.value.kind == "not_found"
    assert "no catalogue KPI 'npss'" in caught.value.message
    assert [kpi.code for kpi in catalogue_search("FCR")] == ["first_contact_resolution"]
    assert catalogue_search("uptime")[0].code == "availability"
    assert catalogue_search("abandon")[0].code == "abandonment_rate"  # name match ranks first
    assert {kpi.code for kpi in catalogue_search("customer satisfaction")} >= {"csat", "nps"}
    assert catalogue_search("") == CATALOGUE
    assert catalogue_search("no such kpi anywhere") == ()


# --- contacts: hand-worked examples ------------------------------------------------------------

# Ten contacts in October 2026 (UTC). wait = answered_at - opened_at in seconds.
#
#  id   channel  wait   abandoned  fcr    resolved  csat  nps   handle  cost
#  c1   phone    10     no         yes    yes       5     10    300     4.00
#  c2   phone    15     no         yes    yes       4     9     200     3.00
#  c3   phone    20     no         no     yes       3     8     400     5.00
#  c4   phone    25     no         no     yes       2     4     500     6.00
#  c5   phone    60     no         (none) no        -     10    100     2.00
#  c6   phone    -      yes (after 5 s, a short abandon)  -      -      -
#  c7   phone    -      yes (after 40 s)                  -      -      -
#  c8   chat     5      no         yes    yes       5     -     600     7.00
#  c9   chat     30     no         no     yes       1     -     200     3.00
#  c10  email    3600   no         yes    yes       -     -     250     2.50
#
# plus c11 in November: an answered e-mail without any survey response.


def _contact(cid: str, channel: str, wait: int | None, **extra: Any) -> dict[str, Any]:
    opened = _ts("2026-10-12T09:00") + timedelta(hours=int(cid[1:]))
    row = {"contact_id": cid, "opened_at": opened, "channel": channel, "abandoned": False}
    if wait is not None:
        row["answered_at"] = opened + timedelta(seconds=wait)
    if extra.pop("resolved", False):
        row["resolved_at"] = opened + timedelta(hours=1)
    if "cost" in extra:
        extra["cost"] = Decimal(extra["cost"])
    return row | extra


CONTACT_ROWS = [
    _contact("c1", "phone", 10, first_contact_resolved=True, resolved=True, csat=5, nps=10, handle_seconds=300.0,
             cost="4.00"),
    _contact("c2", "phone", 15, first_contact_resolved=True, resolved=True, csat=4, nps=9, handle_seconds=200.0,
             cost="3.00"),
    _contact("c3", "phone", 20, first_contact_resolved=False, resolved=True, csat=3, nps=8, handle_seconds=400.0,
             cost="5.00"),
    _contact("c4", "phone", 25, first_contact_resolved=False, resolved=True, csat=2, nps=4, handle_seconds=500.0,
             cost="6.00"),
    _contact("c5", "phone", 60, nps=10, handle_seconds=100.0, cost="2.00"),
    _contact("c6", "phone", None, abandoned=True),
    _contact("c7", "phone", None, abandoned=True),
    _contact("c8", "chat", 5, first_contact_resolved=True, resolved=True, csat=5, handle_seconds=600.0, cost="7.00"),
    _contact("c9", "chat", 30, first_contact_resolved=False, resolved=True, csat=1, handle_seconds=200.0,
             cost="3.00"),
    _contact("c10", "email", 3600, first_contact_resolved=True, resolved=True, handle_seconds=250.0, cost="2.50"),
    {"contact_id": "c11", "opened_at": _ts("2026-11-03T10:00"), "answered_at": _ts("2026-11-03T11:00"),
     "channel": "email", "abandoned": False, "first_contact_resolved": True, "handle_seconds": 100.0},
]  # fmt: skip

# When the short abandon c6 and the long one c7 gave up (for the variant that needs it).
ABANDON_SECONDS = {"c6": 5, "c7": 40}


@pytest.fixture
def contacts(tmp_path: Path) -> Path:
    return _write(tmp_path, CONTACTS, CONTACT_ROWS)


def test_service_level(contacts: Path) -> None:
    # Phone offered: c1..c7 = 7. Answered within 20 s (inclusive): c1 (10), c2 (15), c3 (20) = 3.
    # Catalogue variant, all offered in the denominator: 3 / 7 x 100 = 42.857142... -> 42.857143.
    assert _kpi(contacts, "service_level")[OCT] == Decimal("42.857143")


def _documented_service_level_variants() -> dict[str, str]:
    """The service-level variants docs/kpi-catalogue.md names, each with the formula it gives."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "kpi-catalogue.md").read_text(encoding="utf-8")
    section = page.split("### `service_level`", 1)[1].split("\n### ", 1)[0]
    # "  - **name** (what it does) ..." and, on a line of its own indented four spaces, `formula`.
    found = re.findall(r"^  - \*\*([^*]+)\*\*(?:.*\n)*?    `([^`]+)`$", section, flags=re.MULTILINE)
    return dict(found)


def test_service_level_variants_differ_on_abandons(tmp_path: Path, contacts: Path) -> None:
    # The names and formulas are read from the docs, so that each name is tested against what its
    # formula computes (an earlier page called the third one "short abandons excluded", while it drops
    # every abandon under the 20 s threshold, and also abandons with no recorded time).
    variants = _documented_service_level_variants()
    assert list(variants) == [
        "all offered",
        "answered only",
        "abandons under 20 s leave the denominator",
    ]
    assert variants["all offered"] == catalogue_get("service_level").formula
    # All offered (the catalogue's): phone c1..c7 = 7 offered, c1..c3 within 20 s -> 3 / 7 x 100.
    assert _kpi(contacts, "service_level")[OCT] == Decimal("42.857143")
    # Answered only: phone answered c1..c5 = 5, both abandons leave -> 3 / 5 x 100 = 60.
    answered_only = _compute(contacts, formula=variants["answered only"], row_filter="channel = 'phone'")
    assert answered_only[OCT] == Decimal(60)
    # Needs the abandon time, which CONTACTS lacks, so a dataset with an abandoned_at column: c6 gave up
    # after 5 s < 20 s and leaves the denominator, c7 (40 s) stays as a miss -> 3 / 6 x 100 = 50.
    extended = DatasetSchema(
        name="contacts_with_abandon_time",
        time_column="opened_at",
        columns=(*CONTACTS.columns, Column("abandoned_at", "timestamp")),
    )

    def with_abandon_times(seconds: dict[str, int]) -> list[dict[str, Any]]:
        return [
            row | ({"abandoned_at": row["opened_at"] + timedelta(seconds=seconds[row["contact_id"]])}
                   if row["contact_id"] in seconds else {})
            for row in CONTACT_ROWS
        ]  # fmt: skip

    formula = variants["abandons under 20 s leave the denominator"]
    path = _write(tmp_path, extended, with_abandon_times(ABANDON_SECONDS))
    assert _compute(path, formula=formula, row_filter="channel = 'phone'", schema=extended)[OCT] == Decimal(50)
    # An abandon with no recorded time leaves the denominator too (the condition is unknown, and a
    # FILTER keeps only true rows): c7 without its time -> 3 / 5 x 100 = 60, as the docs say.
    (tmp_path / "unknown").mkdir()
    path = _write(tmp_path / "unknown", extended, with_abandon_times({"c6": 5}))
    assert _compute(path, formula=formula, row_filter="channel = 'phone'", schema=extended)[OCT] == Decimal(60)


def test_abandonment_rate(contacts: Path) -> None:
    # Phone: c6 and c7 abandoned of 7 offered -> 2 / 7 x 100 = 28.571428... -> 28.571429.
    assert _kpi(contacts, "abandonment_rate")[OCT] == Decimal("28.571429")


def test_average_speed_of_answer(contacts: Path) -> None:
    # Answered phone waits 10, 15, 20, 25, 60 -> 130 / 5 = 26 s.
    assert _kpi(contacts, "average_speed_of_answer")[OCT] == Decimal(26)


def test_average_handle_time(contacts: Path) -> None:
    # Handled (answered) contacts c1..c5, c8, c9, c10 = 8; handle 300 + 200 + 400 + 500 + 100 + 600
    # + 200 + 250 = 2550 -> 2550 / 8 = 318.75 s. November: c11 alone -> 100.
    assert _kpi(contacts, "average_handle_time") == {OCT: Decimal("318.75"), NOV: Decimal(100)}


def test_first_contact_resolution_and_its_denominators(contacts: Path) -> None:
    # Catalogue: resolved at first contact (c1, c2, c8, c10 = 4) / all handled (8) x 100 = 50;
    # c5, whose outcome is unknown, counts in the denominator only.
    assert _kpi(contacts, "first_contact_resolution")[OCT] == Decimal(50)
    # The other variant, over resolved contacts only (handled minus c5 = 7): 4 / 7 x 100 = 57.142857...
    resolved_only = _compute(
        contacts,
        formula="100.0 * count(*) filter (where first_contact_resolved) / count(resolved_at)",
        row_filter="answered_at is not null",
    )
    assert resolved_only[OCT] == Decimal("57.142857")


def test_csat_top_two_box_over_responses(contacts: Path) -> None:
    # Responses (1-5): c1 5, c2 4, c3 3, c4 2, c8 5, c9 1 = 6; 4s and 5s: c1, c2, c8 = 3 -> 3 / 6 x 100 = 50.
    # November has no response -> None (not 0).
    assert _kpi(contacts, "csat") == {OCT: Decimal(50), NOV: None}
    # Over all contacts instead of responses the same 3 would give 3 / 10 x 100 = 30: a different KPI.
    over_contacts = _compute(contacts, formula="100.0 * count(*) filter (where csat in (4, 5)) / count(*)")
    assert over_contacts[OCT] == Decimal(30)


def test_nps(contacts: Path) -> None:
    # Responses (0-10): c1 10, c2 9, c3 8, c4 4, c5 10 = 5; promoters (9-10): 10, 9, 10 = 3; passive
    # (7-8): 8 = 1; detractors (0-6): 4 = 1 -> (3 - 1) / 5 x 100 = 40. November: no response -> None.
    assert _kpi(contacts, "nps") == {OCT: Decimal(40), NOV: None}


def test_cost_per_contact(contacts: Path) -> None:
    # Cost 4 + 3 + 5 + 6 + 2 + 7 + 3 + 2.50 = 32.50 over 8 handled contacts -> 4.0625.
    # November: c11 has no cost -> sum is NULL -> None.
    assert _kpi(contacts, "cost_per_contact") == {OCT: Decimal("4.0625"), NOV: None}


# --- other datasets ------------------------------------------------------------------------------


def test_productivity(tmp_path: Path) -> None:
    # Items 40 + 18 + 2 = 60 over staffed hours (14400 + 7200 + 1800) / 3600 = 6.5 -> 60 / 6.5 = 9.230769...
    rows = [
        {"interval_start": _ts("2026-10-05T08:00"), "agent": "a", "staffed_seconds": 14400.0, "items_handled": 40},
        {"interval_start": _ts("2026-10-06T08:00"), "agent": "b", "staffed_seconds": 7200.0, "items_handled": 18},
        {"interval_start": _ts("2026-10-07T08:00"), "agent": "c", "staffed_seconds": 1800.0, "items_handled": 2},
    ]
    assert _kpi(_write(tmp_path, STANDARD_SCHEMAS["work_log"], rows), "productivity")[OCT] == Decimal("9.230769")


WORK_ITEMS = [
    # received, completed, due: elapsed hours, met?
    ("w1", "2026-10-01T08:00", "2026-10-01T12:00", "2026-10-01T16:00"),  # 4 h, met
    ("w2", "2026-10-02T09:00", "2026-10-03T09:00", "2026-10-02T17:00"),  # 24 h, missed
    ("w3", "2026-10-05T10:00", "2026-10-05T12:30", None),  # 2.5 h, no SLA
    ("w4", "2026-09-30T22:00", "2026-10-01T05:30", "2026-10-01T06:00"),  # 7.5 h, met (completed in October)
    ("w5", "2026-10-06T08:00", "2026-10-06T10:00", "2026-10-06T10:00"),  # 2 h, met exactly at the deadline
]


@pytest.fixture
def work_items(tmp_path: Path) -> Path:
    rows = [
        {"item_id": i, "received_at": _ts(r), "completed_at": _ts(c), "due_at": _ts(d) if d else None}
        for i, r, c, d in WORK_ITEMS
    ]
    return _write(tmp_path, STANDARD_SCHEMAS["work_items"], rows)


def test_turnaround_time(work_items: Path) -> None:
    # (4 + 24 + 2.5 + 7.5 + 2) / 5 = 40 / 5 = 8 hours.
    assert _kpi(work_items, "turnaround_time") == {OCT: Decimal(8)}


def test_sla_compliance(work_items: Path) -> None:
    # Items with a deadline: w1, w2, w4, w5 = 4; met: w1, w4, w5 = 3 -> 75. w3 has no SLA and is outside.
    assert _kpi(work_items, "sla_compliance") == {OCT: Decimal(75)}


def test_backlog_is_the_last_snapshot_of_the_period(tmp_path: Path) -> None:
    rows = [
        {"taken_at": _ts("2026-10-01T23:00"), "open_items": 120},
        {"taken_at": _ts("2026-10-31T22:00"), "open_items": 90},  # October's last snapshot
        {"taken_at": _ts("2026-10-15T23:00"), "open_items": 100},  # file order does not matter
        {"taken_at": _ts("2026-11-30T22:00"), "open_items": 80},
    ]
    assert _kpi(_write(tmp_path, STANDARD_SCHEMAS["backlog_snapshots"], rows), "backlog") == {
        OCT: Decimal(90),
        NOV: Decimal(80),
    }


def test_accuracy_rate_and_the_transaction_level_variant(tmp_path: Path) -> None:
    samples = [("s1", 10, 0), ("s2", 10, 1), ("s3", 20, 3), ("s4", 10, 0)]
    rows = [
        {"sample_id": s, "checked_at": _ts("2026-10-20T10:00"), "fields_checked": n, "fields_in_error": e}
        for s, n, e in samples
    ]
    path = _write(tmp_path, STANDARD_SCHEMAS["qa_samples"], rows)
    # Field level: (50 checked - 4 in error) / 50 x 100 = 92.
    assert _kpi(path, "accuracy_rate")[OCT] == Decimal(92)
    # Transaction level: error-free samples s1, s4 = 2 of 4 -> 50.
    strict = _compute(
        path,
        formula="100.0 * count(*) filter (where fields_in_error = 0) / count(*)",
        schema=STANDARD_SCHEMAS["qa_samples"],
    )
    assert strict[OCT] == Decimal(50)


def test_cost_per_acquisition(tmp_path: Path) -> None:
    # Spend 50 + 50 + 100 + 25 + 25 = 250 over 2 conversions (l1, l3) -> 125.
    # November: one lead, not converted -> 40 / 0 -> None, not an error.
    leads = [("l1", "50", True), ("l2", "50", False), ("l3", "100", True), ("l4", "25", False), ("l5", "25", False)]
    rows = [
        {"lead_id": i, "created_at": _ts("2026-10-10T10:00"), "cost": Decimal(c), "converted": v} for i, c, v in leads
    ]
    rows.append({"lead_id": "l6", "created_at": _ts("2026-11-10T10:00"), "cost": Decimal(40), "converted": False})
    path = _write(tmp_path, STANDARD_SCHEMAS["leads"], rows)
    assert _kpi(path, "cost_per_acquisition") == {OCT: Decimal(125), NOV: None}


def test_revenue_growth_is_derived_from_monthly_revenue(tmp_path: Path) -> None:
    invoices = [
        ("i1", "2026-09-10T10:00", "600.00"),
        ("i2", "2026-09-20T10:00", "400.00"),  # September 1000
        ("i3", "2026-10-10T10:00", "1100.00"),  # October 1100
        ("i4", "2026-11-10T10:00", "1000.00"),
        ("i5", "2026-11-20T10:00", "-10.00"),  # November 990 (a credit note)
    ]
    rows = [{"invoice_id": i, "invoiced_at": _ts(t), "amount": Decimal(a)} for i, t, a in invoices]
    path = _write(tmp_path, STANDARD_SCHEMAS["invoices"], rows)
    kpi = catalogue_get("revenue_growth")
    assert kpi.derivation == "growth_vs_previous"
    revenue = _kpi(path, "revenue_growth")
    assert revenue == {date(2026, 9, 1): Decimal(1000), OCT: Decimal(1100), NOV: Decimal(990)}
    # October (1100 - 1000) / 1000 x 100 = 10; November (990 - 1100) / 1100 x 100 = -10; September has
    # no previous period -> None.
    assert formula_growth_vs_previous(values=revenue, period_kind="month") == {
        date(2026, 9, 1): None,
        OCT: Decimal(10),
        NOV: Decimal(-10),
    }


def test_availability(tmp_path: Path) -> None:
    # Agreed 360000 + 360000 = 720000 s, downtime 3600 s -> (720000 - 3600) / 720000 x 100 = 99.5.
    rows = [
        {"interval_start": _ts("2026-10-01T00:00"), "service": "web", "agreed_seconds": 360000.0,
         "downtime_seconds": 3600.0},
        {"interval_start": _ts("2026-10-16T00:00"), "service": "web", "agreed_seconds": 360000.0,
         "downtime_seconds": 0.0},
    ]  # fmt: skip
    assert _kpi(_write(tmp_path, STANDARD_SCHEMAS["availability"], rows), "availability") == {OCT: Decimal("99.5")}


def test_values_stay_within_what_each_kpi_allows(contacts: Path) -> None:
    for code in ("service_level", "abandonment_rate", "first_contact_resolution", "csat", "nps", "cost_per_contact"):
        kpi = catalogue_get(code)
        for value in _kpi(contacts, code).values():
            if value is None:
                continue
            assert kpi.min_value is None or value >= kpi.min_value
            assert kpi.max_value is None or value <= kpi.max_value
