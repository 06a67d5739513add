"""Bare DuckDB side of bench_datasets.py: the data generator and the baseline phases.

Imports nothing from Pactboard, so a baseline subprocess carries only Python and DuckDB.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb

START = date(2024, 1, 1)
QUANTUM = Decimal("0.000001")

# The same numbers as the catalogue's contacts KPIs, written by hand as a DuckDB user would.
# WAIT_FAST is the one liberty: seconds between two instants as epoch(b) - epoch(a), the same
# value as epoch(b - a) without building an INTERVAL per row (the catalogue writes it this way too).
WAIT_FAST = "(epoch(answered_at) - epoch(opened_at))"
WAIT_AS_CATALOGUE = "epoch(answered_at - opened_at)"


def bare_kpis(wait: str = WAIT_FAST) -> dict[str, str]:
    """KPI code -> aggregate SQL over the contacts columns."""
    handled = "answered_at IS NOT NULL"
    phone = "channel = 'phone'"
    return {
        "first_contact_resolution": f"100.0 * count(*) FILTER (WHERE {handled} AND first_contact_resolved)"
        f" / NULLIF(count(*) FILTER (WHERE {handled}), 0)",
        "average_handle_time": f"avg(handle_seconds) FILTER (WHERE {handled})",
        "service_level": f"100.0 * count(*) FILTER (WHERE {phone} AND {handled} AND {wait} <= 20)"
        f" / NULLIF(count(*) FILTER (WHERE {phone}), 0)",
        "average_speed_of_answer": f"avg({wait}) FILTER (WHERE {phone} AND {handled})",
        "abandonment_rate": f"100.0 * count(*) FILTER (WHERE {phone} AND abandoned)"
        f" / NULLIF(count(*) FILTER (WHERE {phone}), 0)",
        "cost_per_contact": f"sum(cost) / NULLIF(count(*) FILTER (WHERE {handled}), 0)",
        "csat": "100.0 * count(*) FILTER (WHERE csat IN (4, 5))"
        " / NULLIF(count(*) FILTER (WHERE csat BETWEEN 1 AND 5), 0)",
        "nps": "100.0 * (count(*) FILTER (WHERE nps BETWEEN 9 AND 10) - count(*) FILTER (WHERE nps BETWEEN 0 AND 6))"
        " / NULLIF(count(*) FILTER (WHERE nps BETWEEN 0 AND 10), 0)",
    }


BARE_KPIS = bare_kpis()


# --- data generation -------------------------------------------------------------------------


def _months_later(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def generate_csv(path: Path, *, rows: int, providers: int, months: int, seed: int) -> None:
    """N contact records as CSV, written by DuckDB; every value is a hash of (row, seed, field)."""
    span = (_months_later(START, months) - START).days * 86400
    tmp = path.with_suffix(".tmp")
    con = duckdb.connect()

    def u(field: int) -> str:  # uniform in [0, 1)
        return f"(hash(i, {seed}, {field}) % 1000000) / 1e6"

    ts = "'%Y-%m-%dT%H:%M:%SZ'"
    con.execute(
        f"""
        COPY (
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
        ) TO '{tmp}' (FORMAT csv, HEADER)
        """
    )
    con.close()
    os.replace(tmp, path)


# --- measured phases (each in its own subprocess) ------------------------------------------


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    wall, cpu = time.perf_counter(), _cpu_seconds()
    extra = work()
    return {
        "wall": time.perf_counter() - wall,
        "cpu": _cpu_seconds() - cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_mb": rss_before,
        **extra,
    }


def to_decimal(value: Any) -> str | None:
    """The catalogue's rounding: 6 decimal places, half up (docs/formulas.md)."""
    if value is None:
        return None
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return str(number.quantize(QUANTUM, rounding=ROUND_HALF_UP))


def phase_ingest_bare(args: dict[str, Any]) -> dict[str, Any]:
    out = Path(args["out"])
    out.parent.mkdir(parents=True, exist_ok=True)

    def work() -> dict[str, Any]:
        con = duckdb.connect()
        con.execute(f"COPY (SELECT * FROM read_csv('{args['csv']}')) TO '{out}' (FORMAT parquet)")
        con.close()
        return {"bytes": out.stat().st_size}

    return measure(work)


def phase_compute_bare(args: dict[str, Any]) -> dict[str, Any]:
    kpis = bare_kpis(WAIT_AS_CATALOGUE if args.get("wait") == "catalogue" else WAIT_FAST)
    codes = list(kpis)
    out: dict[str, dict[str, dict[str, str | None]]] = {}

    def work() -> dict[str, Any]:
        con = duckdb.connect()
        query = (
            "SELECT provider, CAST(date_trunc('month', timezone($tz, opened_at)) AS DATE) AS month, "
            + ", ".join(f"{sql} AS {code}" for code, sql in kpis.items())
            + f" FROM read_parquet('{args['parquet']}') GROUP BY ALL"
        )
        rows = con.execute(query, {"tz": args["tz"]}).fetchall()
        for provider, month, *values in rows:
            per = out.setdefault(provider, {})
            for code, value in zip(codes, values, strict=True):
                per.setdefault(code, {})[month.isoformat()] = to_decimal(value)
        return {"groups": len(rows)}

    measured = measure(work)
    Path(args["result"]).write_text(json.dumps(out, sort_keys=True))
    return measured


PHASES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "ingest_bare": phase_ingest_bare,
    "compute_bare": phase_compute_bare,
}

if __name__ == "__main__":
    print(json.dumps(PHASES[sys.argv[1]](json.loads(sys.argv[2]))))
