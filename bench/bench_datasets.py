"""Benchmark: ingest and compute raw contact records, Pactboard against bare DuckDB on the same files.

    uv run python bench/bench_datasets.py                 # 10 M records (about 1 GB of CSV)
    uv run python bench/bench_datasets.py --rows 200000   # a quick run

1. Generates N contact records for 50 providers over 24 months with DuckDB (seeded, no Python
   loop) as CSV under bench/data/ (kept between runs; regenerated when missing).
2. Ingest: Pactboard's ``dataset_file_ingest`` (whole-file checks, typed Parquet, content hash)
   against a bare ``COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT parquet)``.
3. Compute: Pactboard's ``formula_compute`` of every standard KPI on the contacts dataset, per
   provider and month, against one hand-written DuckDB query over the same Parquet file; the
   two results are compared value by value.

Every measured run is a fresh subprocess, so each peak RSS is that phase's own; runs are
interleaved (bare, Pactboard, bare, ...) and the table shows the best run of each, because other work on a
shared machine moves single timings. See bench/README.md for the figures and how to read them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from bare_duckdb import BARE_KPIS, QUANTUM, generate_csv, measure  # bench/ is on sys.path when run as a script

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

    def work() -> dict[str, Any]:
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


PHASES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "ingest_pactboard": phase_ingest_pactboard,
    "compute_pactboard": phase_compute_pactboard,
}


def run_phase(name: str, **args: Any) -> dict[str, Any]:
    if name in PHASES:
        command = [sys.executable, __file__, "--phase", name, "--phase-args", json.dumps(args)]
    else:
        command = [sys.executable, str(HERE / "bare_duckdb.py"), name, json.dumps(args)]
    done = subprocess.run(
        command,
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


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


def _best(runs: list[dict[str, Any]], key: str) -> float:
    # On a shared machine other work only ever adds time, so the fastest run is the truest.
    return min(r[key] for r in runs)


def _row(label: str, bare: list[dict[str, Any]], ours: list[dict[str, Any]], goal: str) -> list[str]:
    cells = [label]
    for key, unit in (("wall", "s"), ("cpu", "s")):
        b, p = _best(bare, key), _best(ours, key)
        cells += [f"{b:.2f} {unit}", f"{p:.2f} {unit}", f"{p / b:.2f}x"]
    b_rss = max(r["peak_rss_mb"] for r in bare)
    p_rss = max(r["peak_rss_mb"] for r in ours)
    wall_ratio = _best(ours, "wall") / _best(bare, "wall")
    verdict = goal if goal == "-" else f"{goal}: {'met' if wall_ratio <= 1.5 else 'missed'}"
    cells += [f"{b_rss:.0f} MB", f"{p_rss:.0f} MB", verdict]
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--providers", type=int, default=50)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=5, help="interleaved runs per phase (the best is shown)")
    parser.add_argument("--tz", default="Europe/Berlin", help="the engagement's time zone for month boundaries")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--phase-args", help=argparse.SUPPRESS)
    opts = parser.parse_args()

    if opts.phase:
        print(json.dumps(PHASES[opts.phase](json.loads(opts.phase_args))))
        return

    data: Path = opts.data
    data.mkdir(parents=True, exist_ok=True)
    csv_path = data / f"contacts-{opts.rows}-{opts.providers}p-{opts.months}m-seed{opts.seed}.csv"
    if not csv_path.exists():
        started = time.perf_counter()
        generate_csv(csv_path, rows=opts.rows, providers=opts.providers, months=opts.months, seed=opts.seed)
        print(f"generated {csv_path.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    csv_mb = csv_path.stat().st_size / 1e6
    work = data / f"run-{opts.rows}"
    shutil.rmtree(work, ignore_errors=True)

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

    codes = [k.code for k in _contacts_kpis()]
    covered = [c for c in codes if c in BARE_KPIS]
    uncovered = [c for c in codes if c not in BARE_KPIS]
    compute_bare: list[dict[str, Any]] = []
    compute_verbatim: list[dict[str, Any]] = []
    compute_ours: list[dict[str, Any]] = []
    for i in range(opts.repeat):
        compute_bare.append(run_phase("compute_bare", parquet=parquet, tz=opts.tz, result=str(work / "bare.json")))
        compute_ours.append(
            run_phase("compute_pactboard", parquet=parquet, tz=opts.tz, result=str(work / "pactboard.json"))
        )
        compute_verbatim.append(
            run_phase("compute_bare", parquet=parquet, tz=opts.tz, wait="catalogue", result=str(work / "verbatim.json"))
        )
        print(f"compute run {i + 1}/{opts.repeat} done", file=sys.stderr)
    runs = {
        "ingest_bare": ingest_bare,
        "ingest_pactboard": ingest_ours,
        "compute_bare": compute_bare,
        "compute_pactboard": compute_ours,
        "compute_bare_catalogue_wait": compute_verbatim,
    }
    (work / "runs.json").write_text(json.dumps(runs, indent=1))
    pactboard_values = json.loads((work / "pactboard.json").read_text())
    equal, close, different, examples = compare(json.loads((work / "bare.json").read_text()), pactboard_values, covered)
    verbatim_same = compare(json.loads((work / "verbatim.json").read_text()), pactboard_values, covered)[2] == 0

    header = [
        "phase",
        "bare wall",
        "Pactboard wall",
        "ratio",
        "bare CPU",
        "Pactboard CPU",
        "ratio",
        "bare peak RSS",
        "Pactboard peak RSS",
        "goal (wall)",
    ]
    lines = [
        f"{opts.rows:,} records, {opts.providers} providers, {opts.months} months; CSV {csv_mb:,.0f} MB; "
        f"Parquet bare {ingest_bare[-1]['bytes'] / 1e6:,.0f} MB, Pactboard {ingest_ours[-1]['bytes'] / 1e6:,.0f} MB; "
        f"{os.cpu_count()} CPUs; best of {opts.repeat} interleaved runs "
        f"(all runs: {os.path.relpath(work / 'runs.json')}), peak RSS = max over runs.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        "| " + " | ".join(_row("ingest (CSV to Parquet)", ingest_bare, ingest_ours, "<= 1.5x")) + " |",
        "| " + " | ".join(_row("compute (KPIs per provider and month)", compute_bare, compute_ours, "<= 1.5x")) + " |",
        "| "
        + " | ".join(
            _row("compute, bare written with epoch(b - a) (an INTERVAL per row)", compute_verbatim, compute_ours, "-")
        )
        + " |",
        "",
        "RSS before the measured call (interpreter and imports): bare "
        f"{_median(ingest_bare, 'rss_before_mb'):.0f} MB, Pactboard ingest "
        f"{_median(ingest_ours, 'rss_before_mb'):.0f} MB, Pactboard compute "
        f"{_median(compute_ours, 'rss_before_mb'):.0f} MB.",
        f"Ingest: the same stored file on every run: {'yes' if len(stored) == 1 else 'NO'} "
        f"({Path(parquet).name[:16]}...).",
        f"Compute: {len(covered)} KPIs x {compute_bare[-1]['groups']} (provider, month) groups; "
        f"{equal} values equal, {close} equal within 0.000001, {different} different "
        f"(the catalogue-verbatim baseline: {'the same' if verbatim_same else 'DIFFERENT'}).",
    ]
    if uncovered:
        lines.append(
            f"Catalogue KPIs on contacts without a hand-written baseline (computed, not compared): {uncovered}"
        )
    lines += [f"  - {e}" for e in examples]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
