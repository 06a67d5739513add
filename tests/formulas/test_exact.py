"""Exact, deterministic values and the local period of each record found by UTC buckets.

Expected numbers are worked out by hand in the comments; the period test checks the bucket join
against DuckDB's own time-zone conversion (ICU), an independent implementation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from pactboard.formulas import formula_compile, formula_compute
from pactboard.formulas.schema import CONTACTS

BERLIN = "Europe/Berlin"
N = 200_000  # enough rows for DuckDB to split the scan between threads


@pytest.fixture(scope="module")
def halves_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200,000 contacts in March 2026 (Berlin) whose averages land exactly on a half at the 7th decimal.

    - handle_seconds: 199,999 contacts of 0.1 s and one of 0.2 s;
    - waits (answered_at - opened_at): 199,999 of 0.1 s (100,000 us) and one of 0.2 s;
    - cost: 199,999 of 0.10 and one of 0.20;
    - csat: 512 responses, one of them a 5 and the others 1.
    """
    path = tmp_path_factory.mktemp("halves") / "halves.parquet"
    con = duckdb.connect()
    con.execute(
        f"""
        COPY (
          SELECT 'c' || i AS contact_id,
                 TIMESTAMPTZ '2026-03-10 12:00:00+00' + to_seconds(i) AS opened_at,
                 TIMESTAMPTZ '2026-03-10 12:00:00+00' + to_seconds(i)
                     + to_microseconds(CASE WHEN i = 0 THEN 200000 ELSE 100000 END) AS answered_at,
                 'phone' AS channel,
                 false AS abandoned,
                 CASE WHEN i < 512 THEN (CASE WHEN i = 1 THEN 5 ELSE 1 END) END::BIGINT AS csat,
                 CASE WHEN i = 0 THEN 0.2 ELSE 0.1 END::DOUBLE AS handle_seconds,
                 CASE WHEN i = 0 THEN 0.20 ELSE 0.10 END::DECIMAL(18, 6) AS cost
          FROM range({N}) t(i)
        ) TO '{path}' (FORMAT parquet)
        """  # noqa: S608 - a test's own numbers and path
    )
    con.close()
    return path


def _halves(path: Path, threads: int) -> dict[str, Decimal | None]:
    formulas = {
        "aht": formula_compile(expression="avg(handle_seconds)", schema=CONTACTS),
        "wait": formula_compile(
            expression="avg(epoch(answered_at) - epoch(opened_at))",
            schema=CONTACTS,
            row_filter="answered_at is not null",
        ),
        "cost": formula_compile(expression="sum(cost) / count(*)", schema=CONTACTS),
        "csat": formula_compile(
            expression="100.0 * count(*) filter (where csat in (4, 5)) / count(*) filter (where csat between 1 and 5)",
            schema=CONTACTS,
        ),
    }
    result = formula_compute(
        formulas=formulas, parquet_paths=[path], schema=CONTACTS, period_kind="month", tz=BERLIN, threads=threads
    )
    return {key: per_period[date(2026, 3, 1)] for key, per_period in result.items()}


def test_values_on_halves_are_exact_and_do_not_depend_on_threads(halves_file: Path) -> None:
    one, four = _halves(halves_file, 1), _halves(halves_file, 4)
    assert one == four
    assert {k: str(v) for k, v in one.items()} == {
        # (199,999 x 0.1 + 0.2) / 200,000 = 20,000.1 / 200,000 = 0.1000005 -> half up 0.100001
        "aht": "0.100001",
        # waits, from timestamps to the microsecond: the same numbers, 0.1000005 s -> 0.100001
        "wait": "0.100001",
        # same sums as handle_seconds, in the decimal column: 20,000.10 / 200,000 = 0.1000005 -> 0.100001
        "cost": "0.100001",
        # 1 top-two response of 512: 100 / 512 = 0.1953125 -> half up 0.195313
        "csat": "0.195313",
    }


# --- periods: UTC buckets against a conversion per record ----------------------------------------


ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "America/Santiago", "UTC"]


def _instants(tz: str) -> list[datetime]:
    """Every local midnight of 2023-2025 in ``tz``, and a microsecond either side of it, as UTC."""
    zone = ZoneInfo(tz)
    out: list[datetime] = []
    day = date(2023, 1, 1)
    while day < date(2026, 1, 1):
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
        out += [midnight - timedelta(microseconds=1), midnight, midnight + timedelta(microseconds=1)]
        day += timedelta(days=1)
    return out


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("kind", ["week", "month", "quarter"])
def test_periods_by_utc_buckets_match_the_conversion_of_each_record(tmp_path: Path, tz: str, kind: str) -> None:
    path = tmp_path / "instants.parquet"
    con = duckdb.connect()
    con.execute("CREATE TABLE t(opened_at TIMESTAMPTZ)")
    con.executemany("INSERT INTO t VALUES (?)", [(i,) for i in _instants(tz)])
    con.execute(f"COPY t TO '{path}' (FORMAT parquet)")
    # DuckDB's own conversion (ICU time zones) of each record: the reference.
    expected = dict(
        con.execute(
            f"SELECT CAST(date_trunc('{kind}', timezone($tz, opened_at)) AS DATE), count(*) FROM t GROUP BY 1",  # noqa: S608
            {"tz": tz},
        ).fetchall()
    )
    con.close()
    result = formula_compute(
        formulas={"n": formula_compile(expression="count(*)", schema=CONTACTS)},
        parquet_paths=[path],
        schema=CONTACTS,
        period_kind=kind,  # type: ignore[arg-type]
        tz=tz,
    )
    assert {start: int(v) for start, v in result["n"].items() if v is not None} == expected


def test_a_formula_outside_the_exact_subset_is_computed_whole(halves_file: Path) -> None:
    result = formula_compute(
        formulas={
            "median": formula_compile(expression="median(handle_seconds)", schema=CONTACTS),
            "rounded": formula_compile(expression="round(avg(handle_seconds), 1) + count(*)", schema=CONTACTS),
        },
        parquet_paths=[halves_file],
        schema=CONTACTS,
        period_kind="month",
        tz=BERLIN,
    )
    # 199,999 values of 0.1 and one of 0.2: the median is 0.1; round(0.1000005, 1) + 200,000 = 200,000.1
    assert result["median"][date(2026, 3, 1)] == Decimal("0.1")
    assert result["rounded"][date(2026, 3, 1)] == Decimal("200000.1")
