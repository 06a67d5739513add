"""Benchmark: ingest and compute raw contact records, Pactboard against bare DuckDB on the same files.

    uv run python bench/bench_datasets.py                       # 10 M records (about 1 GB of CSV)
    uv run python bench/bench_datasets.py --rows 1000000        # a quicker run
    uv run python bench/bench_datasets.py --rows 100000000 --no-ingest --repeat 1   # growth and memory

1. Generates N contact records for 50 providers over 24 months with DuckDB (seeded, no Python
   loop) as CSV under bench/data/ (kept between runs; regenerated when missing). With
   ``--no-ingest`` the same records are written straight to typed Parquet instead.
2. Ingest: Pactboard's ``dataset_file_ingest`` (whole-file checks, typed Parquet, content hash)
   against a bare ``COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT parquet)``.
3. Compute: Pactboard's ``formula_compile`` + ``formula_compute`` of every standard KPI on the
   contacts dataset, per provider and month, against the fastest DuckDB query we could write for
   the same values (bare_duckdb.py, written from docs/kpi-catalogue.md, not from the engine's
   SQL) and against a scan floor (every needed column read and counted); values compared one by one.

Every measured run is a fresh interpreter: CPU of the measured call and of the whole process
(``os.wait4``, interpreter start and imports included), peak RSS as the child's own VmHWM.
Runs are interleaved (bare, Pactboard, floor, bare, ...); the table shows the median and the
minimum. See bench/README.md for the figures and how to read them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from bare_duckdb import (  # bench/ is on sys.path when run as a script
    BARE_KPIS,
    QUANTUM,
    generate_csv,
    generate_parquet,
    measure,
)

from pactboard.formulas import formula_compile, formula_compute
from pactboard.formulas.schema import CONTACTS, Column, DatasetSchema
from pactboard.kpis.catalogue import CATALOGUE
from pactboard.measurements.ingest import dataset_file_ingest

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE / "data"

# The contacts dataset plus the provider each record belongs to (a portfolio of 50 providers).
BENCH_SCHEMA = DatasetSchema(
    name="contacts",
    columns=(*CONTACTS.columns, Column("provider", "text", nullable=False, description="Provider code")),
    time_column="opened_at",
)

# --- measured phases (each in its own subprocess) ------------------------------------------


def _contacts_kpis() -> list[Any]:
    return [k for k in CATALOGUE if k.dataset == "contacts"]


def phase_ingest_pactboard(args: dict[str, Any]) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        result = dataset_file_ingest(source=Path(args["csv"]), schema=BENCH_SCHEMA, dest_dir=Path(args["store"]))
        return {"path": str(result.path), "rows": result.row_count, "bytes": result.path.stat().st_size}

    return measure(work)


def phase_compute_pactboard(args: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, dict[str, dict[str, str | None]]] = {}

    def work() -> dict[str, Any]:  # compile and compute: what a worker does for one dataset version
        formulas = {
            k.code: formula_compile(expression=k.formula, schema=BENCH_SCHEMA, row_filter=k.row_filter)
            for k in _contacts_kpis()
        }
        values = formula_compute(
            formulas=formulas,
            parquet_paths=[args["parquet"]],
            schema=BENCH_SCHEMA,
            period_kind="month",
            tz=args["tz"],
            group_by="provider",
            threads=args.get("threads"),
            memory_limit=args.get("memory_limit"),
        )
        for provider, per_code in values.items():
            for code, per_month in per_code.items():
                out.setdefault(provider, {})[code] = {
                    m.isoformat(): (None if v is None else str(v)) for m, v in per_month.items()
                }
        return {"kpis": len(formulas)}

    measured = measure(work)
    Path(args["result"]).write_text(json.dumps(out, sort_keys=True))
    return measured


def phase_compute_loop(args: dict[str, Any]) -> dict[str, Any]:
    """Compute again and again until stopped: the worker beside the dashboard benchmark's pages."""
    runs = 0
    while True:
        phase_compute_pactboard(args)
        runs += 1
        Path(args["result"]).with_suffix(".runs").write_text(str(runs))


PHASES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "ingest_pactboard": phase_ingest_pactboard,
    "compute_pactboard": phase_compute_pactboard,
    "compute_loop": phase_compute_loop,
}


def phase_command(name: str, **args: Any) -> list[str]:
    if name in PHASES:
        return [sys.executable, __file__, "--phase", name, "--phase-args", json.dumps(args)]
    return [sys.executable, str(HERE / "bare_duckdb.py"), name, json.dumps(args)]


def run_phase(name: str, **args: Any) -> dict[str, Any]:
    """One phase in a fresh interpreter; its whole-process CPU from the kernel (os.wait4)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as errors:
        child = subprocess.Popen(phase_command(name, **args), stdout=subprocess.PIPE, stderr=errors, text=True)
        assert child.stdout is not None
        stdout = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)  # reaps the child: its own CPU, not the driver's
        child.returncode = os.waitstatus_to_exitcode(status)
        child.stdout.close()
        if child.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"{name} failed:\n{errors.read()}")
    measured = dict(json.loads(stdout.strip().splitlines()[-1]))
    measured["process_cpu"] = usage.ru_utime + usage.ru_stime
    measured["process_wall"] = time.perf_counter() - started
    return measured


# --- comparison and report -----------------------------------------------------------------


def compare(bare: dict[str, Any], pactboard: dict[str, Any], codes: list[str]) -> tuple[int, int, int, list[str]]:
    """Values equal, equal within one unit of the 6th decimal, different (with the first few)."""
    equal = close = 0
    different: list[str] = []
    keys = set(bare) | set(pactboard)
    for provider in sorted(keys):
        for code in codes:
            b = bare.get(provider, {}).get(code, {})
            p = pactboard.get(provider, {}).get(code, {})
            for month in sorted(set(b) | set(p)):
                x, y = b.get(month, "absent"), p.get(month, "absent")
                if x == y:
                    equal += 1
                elif None not in (x, y) and "absent" not in (x, y) and abs(Decimal(x) - Decimal(y)) <= QUANTUM:
                    close += 1
                else:
                    different.append(f"{provider} {code} {month}: bare {x}, Pactboard {y}")
    return equal, close, len(different), different[:5]


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _min(runs: list[dict[str, Any]], key: str) -> float:
    return min(r[key] for r in runs)


def _cells(runs: list[dict[str, Any]], base: list[dict[str, Any]] | None) -> list[str]:
    """CPU (median / min), ratio to ``base`` by median CPU, process CPU, wall (median / min), peak RSS."""
    cpu_med, cpu_min = _median(runs, "cpu"), _min(runs, "cpu")
    ratio = "-" if base is None else f"{cpu_med / _median(base, 'cpu'):.2f}x / {cpu_min / _min(base, 'cpu'):.2f}x"
    return [
        f"{cpu_med:.2f} / {cpu_min:.2f} s",
        ratio,
        f"{_median(runs, 'process_cpu'):.2f} s",
        f"{_median(runs, 'wall'):.2f} / {_min(runs, 'wall'):.2f} s",
        f"{max(r['peak_rss_mb'] for r in runs):.0f} MB",
    ]


def _table(rows: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]] | None]]) -> list[str]:
    header = [
        "phase",
        "CPU median / min",
        "ratio to bare (median / min)",
        "process CPU (median)",
        "wall median / min",
        "peak RSS (max)",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join([label, *_cells(runs, base)]) + " |" for label, runs, base in rows]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--providers", type=int, default=50)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=5, help="interleaved runs per phase")
    parser.add_argument("--tz", default="Europe/Berlin", help="the engagement's time zone for month boundaries")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--no-ingest", action="store_true", help="write the records straight to typed Parquet; compute only"
    )
    parser.add_argument("--threads", type=int, help="DuckDB threads for both computes (default: all cores)")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--phase-args", help=argparse.SUPPRESS)
    opts = parser.parse_args()

    if opts.phase:
        print(json.dumps(PHASES[opts.phase](json.loads(opts.phase_args))))
        return

    data: Path = opts.data
    data.mkdir(parents=True, exist_ok=True)
    stem = f"contacts-{opts.rows}-{opts.providers}p-{opts.months}m-seed{opts.seed}"
    work = data / f"run-{opts.rows}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    lines = []
    ingest_rows = []
    if opts.no_ingest:
        parquet_path = data / f"{stem}.parquet"
        if not parquet_path.exists():
            started = time.perf_counter()
            generate_parquet(parquet_path, rows=opts.rows, providers=opts.providers, months=opts.months, seed=opts.seed)
            print(f"generated {parquet_path.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        parquet = str(parquet_path)
        source = f"Parquet written directly {parquet_path.stat().st_size / 1e6:,.0f} MB (no ingest)"
    else:
        csv_path = data / f"{stem}.csv"
        if not csv_path.exists():
            started = time.perf_counter()
            generate_csv(csv_path, rows=opts.rows, providers=opts.providers, months=opts.months, seed=opts.seed)
            print(f"generated {csv_path.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        ingest_bare: list[dict[str, Any]] = []
        ingest_ours: list[dict[str, Any]] = []
        stored: set[str] = set()
        for i in range(opts.repeat):
            ingest_bare.append(run_phase("ingest_bare", csv=str(csv_path), out=str(work / "bare.parquet")))
            store = work / "store"
            shutil.rmtree(store, ignore_errors=True)  # measure a fresh write every time
            ingest_ours.append(run_phase("ingest_pactboard", csv=str(csv_path), store=str(store)))
            stored.add(ingest_ours[-1]["path"])
            print(f"ingest run {i + 1}/{opts.repeat} done", file=sys.stderr)
        parquet = ingest_ours[-1]["path"]
        source = (
            f"CSV {csv_path.stat().st_size / 1e6:,.0f} MB; Parquet bare {ingest_bare[-1]['bytes'] / 1e6:,.0f} MB, "
            f"Pactboard {ingest_ours[-1]['bytes'] / 1e6:,.0f} MB"
        )
        ingest_rows = [
            ("ingest, bare COPY", ingest_bare, None),
            ("ingest, Pactboard (checked)", ingest_ours, ingest_bare),
        ]
        lines.append(
            f"Ingest: the same stored file on every run: {'yes' if len(stored) == 1 else 'NO'} "
            f"({Path(parquet).name[:16]}...)."
        )

    codes = [k.code for k in _contacts_kpis()]
    covered = [c for c in codes if c in BARE_KPIS]
    uncovered = [c for c in codes if c not in BARE_KPIS]
    common = {"parquet": parquet, "tz": opts.tz, "threads": opts.threads}
    compute_bare: list[dict[str, Any]] = []
    compute_ours: list[dict[str, Any]] = []
    floor: list[dict[str, Any]] = []
    for i in range(opts.repeat):
        compute_bare.append(run_phase("compute_bare", **common, result=str(work / "bare.json")))
        compute_ours.append(run_phase("compute_pactboard", **common, result=str(work / "pactboard.json")))
        floor.append(run_phase("scan_floor", **common))
        print(f"compute run {i + 1}/{opts.repeat} done", file=sys.stderr)
    runs = {"compute_bare": compute_bare, "compute_pactboard": compute_ours, "scan_floor": floor}
    if ingest_rows:
        runs |= {"ingest_bare": ingest_rows[0][1], "ingest_pactboard": ingest_rows[1][1]}
    (work / "runs.json").write_text(json.dumps(runs, indent=1))
    pactboard_values = json.loads((work / "pactboard.json").read_text())
    equal, close, different, examples = compare(json.loads((work / "bare.json").read_text()), pactboard_values, covered)

    ratio = _median(compute_ours, "cpu") / _median(compute_bare, "cpu")
    report = [
        f"{opts.rows:,} records, {opts.providers} providers, {opts.months} months; {source}; "
        f"{os.cpu_count()} CPUs; DuckDB threads {opts.threads or 'default'}; {opts.repeat} interleaved runs "
        f"(all runs: {os.path.relpath(work / 'runs.json')}).",
        "",
        *_table(
            [
                *ingest_rows,
                ("compute, bare DuckDB (bare_duckdb.py)", compute_bare, None),
                ("compute, Pactboard (8 KPIs per provider and month)", compute_ours, compute_bare),
                ("scan floor (needed columns read and counted)", floor, compute_bare),
            ]
        ),
        "",
        f"Compute against bare by median CPU: {ratio:.2f}x (goal <= 1.5x: {'met' if ratio <= 1.5 else 'MISSED'}); "
        f"against the scan floor: {_median(compute_ours, 'cpu') / _median(floor, 'cpu'):.2f}x.",
        "CPU = user + system time of the measured call (all DuckDB threads); process CPU = the whole "
        "interpreter (start, imports, call) from os.wait4; peak RSS = the child's own VmHWM.",
        "RSS before the measured call (interpreter and imports): "
        f"bare {_median(compute_bare, 'rss_before_mb'):.0f} MB, "
        f"Pactboard {_median(compute_ours, 'rss_before_mb'):.0f} MB.",
        *lines,
        f"Compute: {len(covered)} KPIs x {compute_bare[-1]['groups']} (provider, month) groups; "
        f"{equal} values equal, {close} equal within 0.000001, {different} different.",
    ]
    if uncovered:
        report.append(f"Catalogue KPIs on contacts without a bare query (computed, not compared): {uncovered}")
    report += [f"  - {e}" for e in examples]
    print("\n".join(report))


if __name__ == "__main__":
    main()
