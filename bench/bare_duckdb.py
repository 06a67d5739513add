"""Bare DuckDB side of bench_datasets.py: the data generator and the baseline phases.

Imports nothing from Pactboard, so a baseline subprocess carries only Python and DuckDB.
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

START = date(2024, 1, 1)
QUANTUM = Decimal("0.000001")

# The catalogue's contacts KPIs (docs/kpi-catalogue.md), written by hand from their definitions as
# a DuckDB user would, independently of Pactboard's SQL: one scan; the local month of each record
# found by an integer join on its UTC hour (no time-zone conversion per record); each KPI's
# numerator and denominator as exact integers or decimals; the ratio and its rounding in Python.
BARE_KPIS = (
    "first_contact_resolution",
    "average_handle_time",
    "service_level",
    "average_speed_of_answer",
    "abandonment_rate",
    "cost_per_contact",
    "csat",
    "nps",
)


# --- data generation -------------------------------------------------------------------------


def _months_later(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _records_sql(*, rows: int, providers: int, months: int, seed: int) -> str:
    """N contact records as text columns (as in the CSV); every value is a hash of (row, seed, field)."""
    span = (_months_later(START, months) - START).days * 86400

    def u(field: int) -> str:  # uniform in [0, 1)
        return f"(hash(i, {seed}, {field}) % 1000000) / 1e6"

    ts = "'%Y-%m-%dT%H:%M:%SZ'"
    return f"""
          WITH b AS (
            SELECT i,
              (hash(i, {seed}, 1) % {providers})::INTEGER AS p,
              TIMESTAMP '{START.isoformat()}' + to_seconds((hash(i, {seed}, 2) % {span})::BIGINT) AS opened,
              (hash(i, {seed}, 3) % 3)::INTEGER AS ch,
              {u(4)} AS u_ab, (hash(i, {seed}, 5) % 240)::BIGINT AS wait_s, {u(6)} AS u_open,
              (60 + hash(i, {seed}, 7) % 14400)::BIGINT AS resolve_s, {u(8)} AS u_fcr,
              {u(9)} AS u_csat, {u(10)} AS u_nps, (hash(i, {seed}, 11) % 600000) / 1000.0 AS handle,
              hash(i, {seed}, 12) % 900 AS cost_c
            FROM range({rows}) t(i)
          ), c AS (SELECT *, u_ab < 0.03 + p * 0.001 AS abandoned FROM b)
          SELECT
            'C' || lpad(i::VARCHAR, 10, '0') AS contact_id,
            strftime(opened, {ts}) AS opened_at,
            CASE WHEN NOT abandoned THEN strftime(opened + to_seconds(wait_s), {ts}) END AS answered_at,
            CASE WHEN NOT abandoned AND u_open >= 0.02
                 THEN strftime(opened + to_seconds(wait_s + resolve_s), {ts}) END AS resolved_at,
            ['phone', 'chat', 'email'][ch + 1] AS channel,
            CASE WHEN NOT abandoned THEN u_fcr < 0.55 + p * 0.006 END AS first_contact_resolved,
            abandoned,
            CASE WHEN u_csat < 0.2 THEN 1 + hash(i, {seed}, 13) % 5 END AS csat,
            CASE WHEN u_nps < 0.15 THEN hash(i, {seed}, 14) % 11 END AS nps,
            CASE WHEN NOT abandoned THEN round(90 + handle, 3) END AS handle_seconds,
            CAST(1.50 + cost_c / 100 + p * 0.05 AS DECIMAL(10, 2)) AS cost,
            'P' || lpad(p::VARCHAR, 2, '0') AS provider
          FROM c
    """


def generate_csv(path: Path, *, rows: int, providers: int, months: int, seed: int) -> None:
    """The records as CSV, written by DuckDB."""
    tmp = path.with_suffix(".tmp")
    con = duckdb.connect()
    records = _records_sql(rows=rows, providers=providers, months=months, seed=seed)
    con.execute(f"COPY ({records}) TO '{tmp}' (FORMAT csv, HEADER)")
    con.close()
    os.replace(tmp, path)


def generate_parquet(path: Path, *, rows: int, providers: int, months: int, seed: int) -> None:
    """The same records straight to Parquet with the types Pactboard's ingest stores (no CSV, no checks)."""
    tmp = path.with_suffix(".tmp")
    con = duckdb.connect(config={"memory_limit": "1GB", "preserve_insertion_order": False})
    records = _records_sql(rows=rows, providers=providers, months=months, seed=seed)
    typed = (
        "contact_id, CAST(opened_at AS TIMESTAMPTZ) AS opened_at, CAST(answered_at AS TIMESTAMPTZ) AS answered_at, "
        "CAST(resolved_at AS TIMESTAMPTZ) AS resolved_at, channel, first_contact_resolved, abandoned, "
        "CAST(csat AS BIGINT) AS csat, CAST(nps AS BIGINT) AS nps, CAST(handle_seconds AS DOUBLE) AS handle_seconds, "
        "CAST(cost AS DECIMAL(18, 6)) AS cost, provider"
    )
    con.execute(f"COPY (SELECT {typed} FROM ({records})) TO '{tmp}' (FORMAT parquet, COMPRESSION snappy)")
    con.close()
    os.replace(tmp, path)


# --- measured phases (each in its own subprocess) ------------------------------------------


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """This process's own peak resident memory (VmHWM), in MB.

    Not ``ru_maxrss``: Linux carries the parent's peak over fork and exec into the child's
    ``ru_maxrss``, so a small phase would show the (larger) benchmark driver's figure. VmHWM
    belongs to the address space that exec created, so it is this interpreter's own.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: the best there is


def measure(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    rss_before = peak_rss_mb()
    wall, cpu = time.perf_counter(), _cpu_seconds()
    extra = work()
    return {
        "wall": time.perf_counter() - wall,
        "cpu": _cpu_seconds() - cpu,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_mb": rss_before,
        **extra,
    }


def round_half_up(value: Fraction) -> str:
    """The catalogue's rounding of an exact value: 6 decimal places, half away from zero."""
    scaled = abs(value) * 10**6
    units = math.floor(scaled + Fraction(1, 2))
    return str((Decimal(units) / 10**6 if value >= 0 else -Decimal(units) / 10**6).quantize(QUANTUM))


def ratio(numerator: int | Decimal | None, denominator: int | Decimal | None, scale: int = 1) -> str | None:
    """scale x numerator / denominator, exactly, rounded once; None for no data or a zero denominator."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return round_half_up(Fraction(numerator) * scale / Fraction(denominator))


def month_boundaries(first: datetime, last: datetime, tz: str) -> list[tuple[date, int]]:
    """(local month start, its first instant as UTC epoch seconds) for every month from first to last, and one more."""
    zone = ZoneInfo(tz)
    local_first, local_last = first.astimezone(zone), last.astimezone(zone)
    index = local_first.year * 12 + local_first.month - 1
    end = local_last.year * 12 + local_last.month  # one past the last month
    out = []
    for i in range(index, end + 1):
        start = date(i // 12, i % 12 + 1, 1)
        out.append((start, int(datetime(start.year, start.month, 1, tzinfo=zone).timestamp())))
    return out


def _connect(args: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(config={"threads": args["threads"]} if args.get("threads") else {})


def phase_ingest_bare(args: dict[str, Any]) -> dict[str, Any]:
    out = Path(args["out"])
    out.parent.mkdir(parents=True, exist_ok=True)

    def work() -> dict[str, Any]:
        con = duckdb.connect()
        con.execute(f"COPY (SELECT * FROM read_csv('{args['csv']}')) TO '{out}' (FORMAT parquet)")
        con.close()
        return {"bytes": out.stat().st_size}

    return measure(work)


# Per (provider, local month): every count and sum the eight KPIs need, each once.
# w is the wait in microseconds (exact integer); hs the handle time of a handled contact as an
# exact decimal (the float carries at most 9 decimals of meaning); conditions counted with count_if
# (cheaper than count(*) FILTER here; it gives NULL, read as 0, for a group where the condition is
# never known).
_AGGREGATES = """
SELECT provider, bin.m,
  count(answered_at)                                   AS handled,
  count_if(first_contact_resolved AND answered_at IS NOT NULL) AS fcr,
  sum(hs)                                              AS hs_sum,
  count(hs)                                            AS hs_n,
  count_if(phone)                                      AS offered,
  count_if(phone AND w <= 20000000)                    AS within_20s,
  sum(w) FILTER (phone)                                AS wait_sum,
  count(w) FILTER (phone)                              AS wait_n,
  count_if(phone AND abandoned)                        AS abandons,
  sum(cost)                                            AS cost_sum,
  count_if(csat BETWEEN 4 AND 5)                       AS csat_top2,
  count_if(csat BETWEEN 1 AND 5)                       AS csat_n,
  count_if(nps BETWEEN 9 AND 10)                       AS promoters,
  count_if(nps BETWEEN 0 AND 6)                        AS detractors,
  count_if(nps BETWEEN 0 AND 10)                       AS nps_n
FROM (
  SELECT provider, opened_at, answered_at, first_contact_resolved, abandoned, csat, nps, cost,
         channel = 'phone' AS phone,
         epoch_us(answered_at) - epoch_us(opened_at) AS w,
         CASE WHEN answered_at IS NOT NULL THEN CAST(handle_seconds AS DECIMAL(38, 9)) END AS hs
  FROM read_parquet($parquet)
) r JOIN bin ON epoch_us(r.opened_at) // 3600000000 = bin.hour
GROUP BY ALL
"""


def phase_compute_bare(args: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, dict[str, dict[str, str | None]]] = {}

    def work() -> dict[str, Any]:
        con = _connect(args)
        first, last = con.execute(
            "SELECT min(opened_at), max(opened_at) FROM read_parquet($p)", {"p": args["parquet"]}
        ).fetchone()  # answered from the Parquet statistics
        months = month_boundaries(first, last, args["tz"])
        # Month starts in Europe/Berlin (and most zones) fall on whole UTC hours: one row per UTC
        # hour of the data's range says which local month it lies in; the join on an integer
        # range is a perfect hash join, far cheaper than converting every timestamp to local time.
        con.execute("CREATE TEMP TABLE starts(m DATE, s BIGINT)")
        con.executemany("INSERT INTO starts VALUES (?, ?)", months)
        assert all(s % 3600 == 0 for _, s in months), "a month starts off the hour in this zone"
        con.execute(
            "CREATE TEMP TABLE bin AS SELECT h AS hour, (SELECT max_by(m, s) FROM starts WHERE s <= h * 3600) AS m "
            f"FROM range({months[0][1] // 3600}, {months[-1][1] // 3600}) t(h)"
        )
        rows = con.execute(_AGGREGATES, {"parquet": args["parquet"]}).fetchall()
        for row in rows:
            (
                provider,
                month,
                handled,
                fcr,
                hs_sum,
                hs_n,
                offered,
                within,
                wait_sum,
                wait_n,
                abandons,
                cost,
                top2,
                csat_n,
                promoters,
                detractors,
                nps_n,
            ) = (0 if v is None and i not in (4, 8, 11) else v for i, v in enumerate(row))
            values = {
                "first_contact_resolution": ratio(fcr, handled, 100),
                "average_handle_time": ratio(hs_sum, hs_n),
                "service_level": ratio(within, offered, 100),
                "average_speed_of_answer": ratio(wait_sum, None if wait_sum is None else wait_n * 1_000_000),
                "abandonment_rate": ratio(abandons, offered, 100),
                "cost_per_contact": ratio(cost, handled),
                "csat": ratio(top2, csat_n, 100),
                "nps": ratio(promoters - detractors, nps_n, 100),
            }
            per = out.setdefault(provider, {})
            for code, value in values.items():
                per.setdefault(code, {})[month.isoformat()] = value
        return {"groups": len(rows)}

    measured = measure(work)
    Path(args["result"]).write_text(json.dumps(out, sort_keys=True))
    return measured


def phase_scan_floor(args: dict[str, Any]) -> dict[str, Any]:
    """The floor under any compute: read every column the KPIs need and count it per provider."""

    def work() -> dict[str, Any]:
        con = _connect(args)
        columns = (
            "opened_at",
            "answered_at",
            "channel",
            "first_contact_resolved",
            "abandoned",
            "csat",
            "nps",
            "handle_seconds",
            "cost",
        )
        rows = con.execute(
            f"SELECT provider, {', '.join(f'count({c})' for c in columns)} FROM read_parquet($p) GROUP BY provider",
            {"p": args["parquet"]},
        ).fetchall()
        return {"groups": len(rows)}

    return measure(work)


PHASES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "ingest_bare": phase_ingest_bare,
    "compute_bare": phase_compute_bare,
    "scan_floor": phase_scan_floor,
}

if __name__ == "__main__":
    print(json.dumps(PHASES[sys.argv[1]](json.loads(sys.argv[2]))))
