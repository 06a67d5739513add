"""The formula engine: whitelisting (sqlglot), computation per period (DuckDB), traceability.

Expected numbers are worked out by hand in the comments from the records written in each test.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pactboard.core.errors import PactboardError
from pactboard.formulas import (
    CompiledFormula,
    formula_compile,
    formula_compute,
    formula_growth_vs_previous,
    formula_records,
)
from pactboard.formulas.schema import CONTACTS, Column, DatasetSchema

BERLIN = "Europe/Berlin"


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _write(path: Path, rows: list[dict[str, Any]], *, tz_aware: bool = True) -> Path:
    """Write contact-like rows to Parquet with explicit types (timestamps as UTC instants)."""
    ts_type = pa.timestamp("us", tz="UTC") if tz_aware else pa.timestamp("us")
    types = {
        "contact_id": pa.string(),
        "opened_at": ts_type,
        "answered_at": ts_type,
        "resolved_at": ts_type,
        "channel": pa.string(),
        "first_contact_resolved": pa.bool_(),
        "abandoned": pa.bool_(),
        "csat": pa.int64(),
        "nps": pa.int64(),
        "handle_seconds": pa.float64(),
        "cost": pa.decimal128(12, 2),
    }
    present = [name for name in types if any(name in row for row in rows)]
    columns = {}
    for name in present:
        values = [row.get(name) for row in rows]
        if ts_type == pa.timestamp("us") and types[name] == ts_type:
            values = [v.replace(tzinfo=None) if v is not None else None for v in values]
        columns[name] = pa.array(values, type=types[name])
    pq.write_table(pa.table(columns), path)
    return path


# Five contacts around month, quarter and DST boundaries. Europe/Berlin is UTC+1 from 25 Oct 2026
# (DST ends) so 2026-10-31T23:30Z is 2026-11-01 00:30 local, and 2026-12-31T23:30Z is 2027-01-01
# 00:30 local.
ROWS: list[dict[str, Any]] = [
    {"contact_id": "r1", "opened_at": _ts("2026-10-05T10:00"), "answered_at": _ts("2026-10-05T10:00:10"),
     "channel": "phone", "first_contact_resolved": True, "abandoned": False, "handle_seconds": 100.0,
     "cost": Decimal("1.10")},
    {"contact_id": "r2", "opened_at": _ts("2026-10-20T12:00"), "answered_at": _ts("2026-10-20T12:00:30"),
     "channel": "phone", "first_contact_resolved": False, "abandoned": False, "handle_seconds": 200.0,
     "cost": Decimal("2.20")},
    {"contact_id": "r3", "opened_at": _ts("2026-10-31T23:30"), "answered_at": _ts("2026-10-31T23:30:05"),
     "channel": "chat", "first_contact_resolved": True, "abandoned": False, "handle_seconds": 400.0,
     "cost": Decimal("3.30")},
    {"contact_id": "r4", "opened_at": _ts("2026-11-10T09:00"), "answered_at": None,
     "channel": "phone", "first_contact_resolved": None, "abandoned": True, "handle_seconds": None,
     "cost": None},
    {"contact_id": "r5", "opened_at": _ts("2026-12-31T23:30"), "answered_at": _ts("2026-12-31T23:31"),
     "channel": "chat", "first_contact_resolved": True, "abandoned": False, "handle_seconds": 600.0,
     "cost": Decimal("0.40")},
]  # fmt: skip


@pytest.fixture
def contacts_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "contacts.parquet", ROWS)


def _compile(expression: str, row_filter: str | None = None) -> CompiledFormula:
    return formula_compile(expression=expression, schema=CONTACTS, row_filter=row_filter)


def D(text: str | int) -> Decimal:
    return Decimal(text)


# --- whitelisting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "names"),
    [
        ("avg(handle_seconds) + (select max(cost) from contacts)", ["subqueries are not allowed", "SELECT"]),
        ("count(*) filter (where channel in (select 'phone'))", ["subqueries are not allowed"]),
        ("sum(cost) + count(*) * 0 + read_csv('x')", ["function 'read_csv' is not allowed"]),
        ("count(*) + read_parquet('/etc/passwd')", ["function 'read_parquet'"]),
        ("avg(handel_seconds)", ["unknown column 'handel_seconds'", "declared: contact_id", "handle_seconds"]),
        ("handle_seconds", ["the formula must aggregate: 'handle_seconds' is outside any aggregate"]),
        ("avg(handle_seconds) / handle_seconds", ["'handle_seconds' is outside any aggregate"]),
        ("100 * 2", ["the formula must aggregate", "has no aggregate"]),
        ("sum(handle_seconds) over (partition by channel)", ["window functions are not allowed", "OVER"]),
        ("avg(handle_seconds) + getenv('HOME')", ["function 'getenv' is not allowed"]),
        ("avg(handle_seconds) + now()", ["function 'now' is not allowed"]),
        ("avg(handle_seconds); drop table contacts", ["found 2 statements", "DROP TABLE contacts"]),
        ("avg(sum(handle_seconds))", ["aggregates cannot be nested", "'SUM(handle_seconds)'", "'AVG("]),
        ("avg(cost) filter (where count(*) > 1)", ["aggregates cannot be nested", "'COUNT(*)'"]),
        ("avg(handle_seconds) -- ; drop table contacts", ["comments are not allowed"]),
        ("avg(handle_seconds) /* hidden */", ["comments are not allowed"]),
        ("avg(c.handle_seconds)", ["qualified column 'c.handle_seconds'"]),
        ("cast(avg(handle_seconds) as varchar)", ["cast to TEXT is not allowed"]),
        ("avg(handle_seconds) from contacts", ["could not read the formula", "from"]),
        ("min(channel)", ["must produce a number", "VARCHAR"]),
        ("avg(resolved_at - opened_at)", ["must produce a number", "INTERVAL", "epoch"]),
        ("sum(channel)", ["does not fit the columns of dataset 'contacts'", "sum(VARCHAR)"]),
        ("avg(handle_seconds) + $1", ["'$1' is not allowed"]),
        ("percentile_cont(0.9) within group (order by handle_seconds)", ["WITHIN GROUP", "quantile_cont"]),
        ("", ["the formula is empty"]),
        ("-- count(*)", ["comments are not allowed"]),
        ("count(*)" + " + count(*)" * 400, ["the limit is 4000"]),
        ("(" * 1500 + "count(*)" + ")" * 1500, ["nests too deeply"]),
    ],
)
def test_refused_formulas_name_the_offending_part(expression: str, names: list[str]) -> None:
    with pytest.raises(PactboardError) as caught:
        _compile(expression)
    assert caught.value.kind == "invalid"
    for name in names:
        assert name in caught.value.message
    assert caught.value.details[0].location == "expression"


@pytest.mark.parametrize(
    ("row_filter", "names"),
    [
        ("count(*) > 1", ["cannot aggregate", "COUNT(*)"]),
        ("channel", ["must be true or false", "VARCHAR"]),
        ("chanel = 'phone'", ["unknown column 'chanel'"]),
        ("channel = 'phone'; drop table contacts", ["found 2 statements"]),
        ("contact_id in (select contact_id from read_csv('x'))", ["subqueries are not allowed"]),
    ],
)
def test_refused_row_filters_name_the_offending_part(row_filter: str, names: list[str]) -> None:
    with pytest.raises(PactboardError) as caught:
        _compile("count(*)", row_filter)
    for name in names:
        assert name in caught.value.message
    assert caught.value.details[0].location == "row_filter"


@pytest.mark.parametrize(
    "expression",
    [
        "avg(handle_seconds)",
        "100.0 * count(*) filter (where first_contact_resolved) / count(*)",
        "avg(handle_seconds) filter (where channel = 'phone') / 60",
        "count(distinct contact_id)",
        "median(handle_seconds) + quantile_cont(handle_seconds, 0.9) + stddev(handle_seconds)",
        "sum(coalesce(cost, 0)) / nullif(count(*), 0)",
        "round(avg(abs(handle_seconds)), 2) + least(min(csat), 3) + greatest(max(nps), 0)",
        "avg(epoch(answered_at - opened_at)) + avg(extract(epoch from resolved_at - opened_at))",
        "count(*) filter (where date_diff('second', opened_at, answered_at) <= 20)",
        "count(*) filter (where answered_at - opened_at <= interval 20 second)",
        "sum(case when csat >= 4 then 1 else 0 end) + avg(cast(csat as double))",
        "cast(bool_and(abandoned) as integer) + cast(bool_or(abandoned) as integer)",
        "arg_max(csat, opened_at)",
    ],
)
def test_whitelisted_formulas_compile(expression: str) -> None:
    compiled = _compile(expression, "channel in ('phone', 'chat') and not abandoned")
    assert compiled.expression
    assert compiled.row_filter == "channel IN ('phone', 'chat') AND NOT abandoned"


def test_compile_normalises_lists_columns_and_fingerprints() -> None:
    a = _compile("AVG( handle_seconds )  filter (WHERE channel='phone')")
    b = _compile("avg(handle_seconds) filter (where channel = 'phone')")
    c = _compile("avg(handle_seconds) filter (where channel = 'phone')", "not abandoned")
    assert a.expression == "AVG(handle_seconds) FILTER(WHERE channel = 'phone')"
    assert a == b  # same normalised text, same fingerprint: the same formula version
    assert len(a.fingerprint) == 64
    assert c.fingerprint != a.fingerprint  # the row filter is part of the version
    assert c.columns == frozenset({"handle_seconds", "channel", "abandoned"})


@pytest.mark.fuzz
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(alphabet="abcdehilmnorstuvw_ ()*,.;'\"-+/<>=0123456789:$[]{}", max_size=40))
def test_compile_fails_only_with_the_domain_error(text: str) -> None:
    with contextlib.suppress(PactboardError):
        _compile(text)


# --- transpiling -------------------------------------------------------------------------------


def test_to_sql_folds_the_row_filter_and_makes_division_safe() -> None:
    fcr = _compile("100.0 * count(*) filter (where first_contact_resolved) / count(*)", "not abandoned")
    assert fcr.to_sql() == (
        "100.0 * COUNT(*) FILTER(WHERE (first_contact_resolved) AND (NOT abandoned)) "
        "/ NULLIF(COUNT(*) FILTER(WHERE (NOT abandoned)), 0)"
    )
    assert fcr.to_sql("postgres") == (
        "CAST(100.0 * COUNT(*) FILTER(WHERE (first_contact_resolved) AND (NOT abandoned)) AS DOUBLE PRECISION) "
        "/ NULLIF(COUNT(*) FILTER(WHERE (NOT abandoned)), 0)"
    )


def test_to_sql_postgres_rewrites_duckdb_only_aggregates() -> None:
    p90 = _compile("quantile_cont(handle_seconds, 0.9)")
    assert p90.to_sql("postgres") == "PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY handle_seconds)"
    latest = _compile("arg_max(csat, opened_at)", "channel = 'phone'")
    assert latest.to_sql("postgres") == (
        "(ARRAY_AGG(csat ORDER BY opened_at DESC NULLS LAST) FILTER(WHERE (NOT csat IS NULL "
        "AND NOT opened_at IS NULL) AND ((channel = 'phone'))))[1]"
    )
    assert _compile("avg(epoch(answered_at - opened_at))").to_sql("postgres") == (
        "AVG(DATE_PART('epoch', answered_at - opened_at))"
    )


def test_to_sql_runs_in_duckdb_with_the_same_value_as_compute(contacts_file: Path) -> None:
    fcr = _compile("100.0 * count(*) filter (where first_contact_resolved) / count(*)", "not abandoned")
    con = duckdb.connect()
    # All five rows at once, no periods: r4 is abandoned (filtered out); of r1, r2, r3, r5 three are
    # first-contact resolved -> 3 / 4 x 100 = 75.
    value = con.execute(f"SELECT {fcr.to_sql()} FROM read_parquet(?)", [str(contacts_file)]).fetchone()  # noqa: S608
    assert value == (75.0,)


# --- computation ---------------------------------------------------------------------------------


def test_months_in_the_engagement_time_zone(contacts_file: Path) -> None:
    formulas = {
        "aht": _compile("avg(handle_seconds)"),
        "cost": _compile("sum(cost)"),
        "fcr": _compile("100.0 * count(*) filter (where first_contact_resolved) / count(*)", "not abandoned"),
    }
    result = formula_compute(
        formulas=formulas, parquet_paths=[contacts_file], schema=CONTACTS, period_kind="month", tz=BERLIN
    )
    oct_, nov, jan = date(2026, 10, 1), date(2026, 11, 1), date(2027, 1, 1)
    # Berlin months: October = r1, r2; November = r3 (23:30Z on 31 Oct is 00:30 on 1 Nov) and r4;
    # December has nothing (r5 at 23:30Z on 31 Dec is 1 Jan local); January = r5.
    # AHT: Oct (100 + 200) / 2 = 150; Nov avg(400, NULL) = 400 (NULL ignored); Jan 600.
    assert result["aht"] == {oct_: D("150"), nov: D("400"), jan: D("600")}
    # Cost stays exact in DECIMAL: Oct 1.10 + 2.20 = 3.30; Nov 3.30 (r4 has none); Jan 0.40.
    assert result["cost"] == {oct_: D("3.30"), nov: D("3.30"), jan: D("0.40")}
    # FCR over not-abandoned contacts: Oct r1 yes, r2 no -> 50; Nov r3 yes (r4 abandoned) -> 100; Jan 100.
    assert result["fcr"] == {oct_: D("50"), nov: D("100"), jan: D("100")}
    assert {v.as_tuple().exponent for v in result["aht"].values() if v is not None} == {-6}


def test_the_same_records_in_utc_fall_into_other_months(contacts_file: Path) -> None:
    result = formula_compute(
        formulas={"aht": _compile("avg(handle_seconds)")},
        parquet_paths=[contacts_file],
        schema=CONTACTS,
        period_kind="month",
        tz="UTC",
    )
    # UTC months: Oct = r1, r2, r3 -> (100 + 200 + 400) / 3 = 233.333333...; Nov = r4 only, whose
    # handle time is NULL -> avg of nothing = None; Dec = r5 -> 600.
    assert result["aht"] == {
        date(2026, 10, 1): D("233.333333"),
        date(2026, 11, 1): None,
        date(2026, 12, 1): D("600"),
    }


def test_naive_timestamps_are_read_as_utc(tmp_path: Path) -> None:
    naive = _write(tmp_path / "naive.parquet", ROWS, tz_aware=False)
    result = formula_compute(
        formulas={"n": _compile("count(*)")}, parquet_paths=[naive], schema=CONTACTS, period_kind="month", tz=BERLIN
    )
    # Same as the UTC-aware file: Oct r1, r2 = 2; Nov r3, r4 = 2; Jan r5 = 1.
    assert result["n"] == {date(2026, 10, 1): D(2), date(2026, 11, 1): D(2), date(2027, 1, 1): D(1)}


def test_iso_weeks_start_on_monday(contacts_file: Path) -> None:
    result = formula_compute(
        formulas={"n": _compile("count(*)")},
        parquet_paths=[contacts_file],
        schema=CONTACTS,
        period_kind="week",
        tz=BERLIN,
    )
    # Local days: r1 Mon 5 Oct -> week of 5 Oct; r2 Tue 20 Oct -> Mon 19 Oct; r3 Sun 1 Nov -> Mon
    # 26 Oct; r4 Tue 10 Nov -> Mon 9 Nov; r5 Fri 1 Jan 2027 -> Mon 28 Dec 2026 (ISO week 2026-W53).
    assert result["n"] == {
        date(2026, 10, 5): D(1),
        date(2026, 10, 19): D(1),
        date(2026, 10, 26): D(1),
        date(2026, 11, 9): D(1),
        date(2026, 12, 28): D(1),
    }
    assert all(start.weekday() == 0 for start in result["n"])


def test_quarters(contacts_file: Path) -> None:
    result = formula_compute(
        formulas={"aht": _compile("avg(handle_seconds)")},
        parquet_paths=[contacts_file],
        schema=CONTACTS,
        period_kind="quarter",
        tz=BERLIN,
    )
    # Q4 2026 = r1..r4: avg(100, 200, 400, NULL) = 700 / 3 = 233.333333...; Q1 2027 = r5 (1 Jan local) = 600.
    assert result["aht"] == {date(2026, 10, 1): D("233.333333"), date(2027, 1, 1): D("600")}


def test_group_by_a_column(contacts_file: Path) -> None:
    result = formula_compute(
        formulas={"aht": _compile("avg(handle_seconds)"), "n": _compile("count(*)")},
        parquet_paths=[contacts_file],
        schema=CONTACTS,
        period_kind="month",
        tz=BERLIN,
        group_by="channel",
    )
    # phone: Oct r1, r2 -> AHT 150, n 2; Nov r4 -> AHT None (NULL), n 1.
    # chat: Nov r3 -> 400, n 1; Jan r5 -> 600, n 1.
    assert result == {
        "phone": {
            "aht": {date(2026, 10, 1): D("150"), date(2026, 11, 1): None},
            "n": {date(2026, 10, 1): D(2), date(2026, 11, 1): D(1)},
        },
        "chat": {
            "aht": {date(2026, 11, 1): D("400"), date(2027, 1, 1): D("600")},
            "n": {date(2026, 11, 1): D(1), date(2027, 1, 1): D(1)},
        },
    }


def test_division_by_zero_gives_none_not_an_error(contacts_file: Path) -> None:
    formulas = {
        # No e-mail contacts at all: x / 0 -> NULL -> None in every period.
        "per_email": _compile("sum(handle_seconds) / count(*) filter (where channel = 'email')"),
        # The row filter keeps no row: the rate's denominator count(*) is 0 -> None ...
        "fax_rate": _compile("100.0 * count(*) filter (where abandoned) / count(*)", "channel = 'fax'"),
        # ... while a count over no rows is 0, as in SQL.
        "fax_count": _compile("count(*)", "channel = 'fax'"),
        # Integer division and modulo by zero are made safe too.
        "intdiv": _compile("count(*) // count(*) filter (where channel = 'email') + count(*) % sum(0)"),
    }
    result = formula_compute(
        formulas=formulas, parquet_paths=[contacts_file], schema=CONTACTS, period_kind="quarter", tz=BERLIN
    )
    quarters = [date(2026, 10, 1), date(2027, 1, 1)]
    assert result["per_email"] == dict.fromkeys(quarters)
    assert result["fax_rate"] == dict.fromkeys(quarters)
    assert result["fax_count"] == dict.fromkeys(quarters, D(0))
    assert result["intdiv"] == dict.fromkeys(quarters)


def test_values_are_decimals_rounded_half_up_to_six_places(contacts_file: Path) -> None:
    result = formula_compute(
        formulas={"third": _compile("count(*) / 6.0"), "two_thirds": _compile("count(*) / 3.0")},
        parquet_paths=[contacts_file],
        schema=CONTACTS,
        period_kind="month",
        tz=BERLIN,
    )
    # October has 2 contacts: 2 / 6 = 0.3333333... -> 0.333333; 2 / 3 = 0.6666666... -> 0.666667.
    assert result["third"][date(2026, 10, 1)] == D("0.333333")
    assert result["two_thirds"][date(2026, 10, 1)] == D("0.666667")
    assert str(result["two_thirds"][date(2026, 10, 1)]) == "0.666667"


def test_period_range_keeps_periods_whose_start_is_inside(contacts_file: Path) -> None:
    result = formula_compute(
        formulas={"n": _compile("count(*)")},
        parquet_paths=[contacts_file],
        schema=CONTACTS,
        period_kind="month",
        tz=BERLIN,
        period_from=date(2026, 11, 1),
        period_to=date(2026, 12, 1),
    )
    assert result["n"] == {date(2026, 11, 1): D(2)}  # r3 and r4; October and January are outside


def test_several_files_and_a_given_connection(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.parquet", ROWS[:2])
    second = _write(tmp_path / "b.parquet", ROWS[2:])
    con = duckdb.connect()
    result = formula_compute(
        formulas={"cost": _compile("sum(cost)")},
        parquet_paths=[first, str(second)],
        schema=CONTACTS,
        period_kind="month",
        tz=BERLIN,
        connection=con,
    )
    assert result["cost"] == {date(2026, 10, 1): D("3.30"), date(2026, 11, 1): D("3.30"), date(2027, 1, 1): D("0.40")}
    assert con.execute("SELECT 1").fetchone() == (1,)  # the caller's connection is left open


def test_a_date_time_column_is_not_shifted(tmp_path: Path) -> None:
    daily = DatasetSchema(
        name="daily",
        time_column="day",
        columns=(Column("day", "date", nullable=False), Column("value", "integer", nullable=False)),
    )
    path = tmp_path / "daily.parquet"
    pq.write_table(pa.table({"day": [date(2026, 9, 30), date(2026, 10, 1)], "value": [1, 10]}), path)
    result = formula_compute(
        formulas={"v": formula_compile(expression="sum(value)", schema=daily)},
        parquet_paths=[path],
        schema=daily,
        period_kind="month",
        tz="Pacific/Auckland",
    )
    assert result["v"] == {date(2026, 9, 1): D(1), date(2026, 10, 1): D(10)}


def test_no_files_or_no_formulas_give_nothing(contacts_file: Path) -> None:
    kwargs: dict[str, Any] = {"schema": CONTACTS, "period_kind": "month", "tz": BERLIN}
    assert formula_compute(formulas={"n": _compile("count(*)")}, parquet_paths=[], **kwargs) == {}
    assert formula_compute(formulas={}, parquet_paths=[contacts_file], **kwargs) == {}


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"tz": "Europe/Berlinn"}, ["unknown time zone 'Europe/Berlinn'"]),
        ({"period_kind": "year"}, ["unknown period 'year'"]),
        ({"group_by": "provider"}, ["cannot group by unknown column 'provider'"]),
    ],
)
def test_compute_refuses_bad_arguments(contacts_file: Path, kwargs: dict[str, Any], names: list[str]) -> None:
    args: dict[str, Any] = {
        "formulas": {"n": _compile("count(*)")},
        "parquet_paths": [contacts_file],
        "schema": CONTACTS,
        "period_kind": "month",
        "tz": BERLIN,
    }
    with pytest.raises(PactboardError) as caught:
        formula_compute(**(args | kwargs))
    for name in names:
        assert name in caught.value.message


def test_compute_names_a_column_missing_from_the_files(tmp_path: Path) -> None:
    path = _write(tmp_path / "no_cost.parquet", [{k: v for k, v in row.items() if k != "cost"} for row in ROWS])
    with pytest.raises(PactboardError) as caught:
        formula_compute(
            formulas={"cost": _compile("sum(cost)")},
            parquet_paths=[path],
            schema=CONTACTS,
            period_kind="month",
            tz=BERLIN,
        )
    assert "lack column(s) 'cost'" in caught.value.message


def test_compute_refuses_a_formula_of_another_dataset(contacts_file: Path) -> None:
    other = DatasetSchema(name="other", time_column="opened_at", columns=(Column("opened_at", "timestamp"),))
    with pytest.raises(PactboardError) as caught:
        formula_compute(
            formulas={"aht": _compile("avg(handle_seconds)")},
            parquet_paths=[contacts_file],
            schema=other,
            period_kind="month",
            tz=BERLIN,
        )
    assert "handle_seconds" in caught.value.message


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=30))
def test_average_matches_exact_arithmetic(tmp_path: Path, seconds: list[int]) -> None:
    rows = [
        {"contact_id": str(i), "opened_at": _ts("2026-03-10T12:00"), "handle_seconds": float(s)}
        for i, s in enumerate(seconds)
    ]
    path = _write(tmp_path / "h.parquet", rows)
    result = formula_compute(
        formulas={"aht": _compile("avg(handle_seconds)")},
        parquet_paths=[path],
        schema=CONTACTS,
        period_kind="month",
        tz=BERLIN,
    )
    exact = Decimal(sum(seconds)) / Decimal(len(seconds))
    assert abs(result["aht"][date(2026, 3, 1)] - exact) <= Decimal("0.000001")


# --- traceability --------------------------------------------------------------------------------


def test_records_are_exactly_the_rows_behind_a_value(contacts_file: Path) -> None:
    fcr = _compile("100.0 * count(*) filter (where first_contact_resolved) / count(*)", "not abandoned")
    args: dict[str, Any] = {
        "formula": fcr,
        "parquet_paths": [contacts_file],
        "schema": CONTACTS,
        "period_kind": "month",
        "tz": BERLIN,
    }
    # November's FCR (100) is r3 alone: r4 is November's too but fails the row filter.
    november = formula_records(**args, period_start=date(2026, 11, 1))
    assert november.column("contact_id").to_pylist() == ["r3"]
    assert november.column_names == [c.name for c in CONTACTS.columns if c.name in november.column_names]
    october = formula_records(**args, period_start=date(2026, 10, 1))
    assert october.column("contact_id").to_pylist() == ["r1", "r2"]  # ordered by opened_at
    assert formula_records(**args, period_start=date(2026, 12, 1)).num_rows == 0


def test_records_of_one_group(contacts_file: Path) -> None:
    rows = formula_records(
        formula=_compile("avg(handle_seconds)"),
        parquet_paths=[contacts_file],
        schema=CONTACTS,
        period_kind="month",
        tz=BERLIN,
        period_start=date(2026, 11, 1),
        group_by="channel",
        group_value="phone",
    )
    assert rows.column("contact_id").to_pylist() == ["r4"]
    # group_value None selects the records whose group column is empty: November's r4 has no cost.
    no_cost = formula_records(
        formula=_compile("count(*)"),
        parquet_paths=[contacts_file],
        schema=CONTACTS,
        period_kind="month",
        tz=BERLIN,
        period_start=date(2026, 11, 1),
        group_by="cost",
        group_value=None,
    )
    assert no_cost.column("contact_id").to_pylist() == ["r4"]


def test_records_refuse_a_date_that_does_not_start_a_period(contacts_file: Path) -> None:
    with pytest.raises(PactboardError) as caught:
        formula_records(
            formula=_compile("count(*)"),
            parquet_paths=[contacts_file],
            schema=CONTACTS,
            period_kind="week",
            tz=BERLIN,
            period_start=date(2026, 11, 1),  # a Sunday
        )
    assert "2026-11-01 is not the first day of a week" in caught.value.message


# --- derived values ------------------------------------------------------------------------------


def test_growth_against_the_immediately_previous_period() -> None:
    values = {
        date(2026, 1, 1): D("1000"),
        date(2026, 2, 1): D("1100"),  # (1100 - 1000) / 1000 x 100 = 10
        date(2026, 3, 1): D("990"),  # (990 - 1100) / 1100 x 100 = -10
        date(2026, 5, 1): D("500"),  # April is missing -> None
        date(2026, 6, 1): D("600"),  # (600 - 500) / 500 x 100 = 20
        date(2026, 7, 1): None,
        date(2026, 8, 1): D("10"),  # previous is None -> None
    }
    growth = formula_growth_vs_previous(values=values, period_kind="month")
    assert growth == {
        date(2026, 1, 1): None,
        date(2026, 2, 1): D("10"),
        date(2026, 3, 1): D("-10"),
        date(2026, 5, 1): None,
        date(2026, 6, 1): D("20"),
        date(2026, 7, 1): None,
        date(2026, 8, 1): None,
    }
    quarters = {date(2025, 10, 1): D("3"), date(2026, 1, 1): D("4")}  # (4 - 3) / 3 x 100 = 33.333333...
    assert formula_growth_vs_previous(values=quarters, period_kind="quarter")[date(2026, 1, 1)] == D("33.333333")
    weeks = {date(2026, 12, 28) - timedelta(days=7): D("0"), date(2026, 12, 28): D("5")}
    assert formula_growth_vs_previous(values=weeks, period_kind="week")[date(2026, 12, 28)] is None  # zero base
