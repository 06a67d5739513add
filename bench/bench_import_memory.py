"""Peak memory (RSS) of reading a large file: a value file (CSV) and a dataset file (CSV).

Each measurement runs in a fresh subprocess and reports ``ru_maxrss`` of that process, so the
figure is the whole process's peak (Python, Django, DuckDB). The files are generated into a
temporary folder (or ``--dir``) and reused.

    uv run python bench/bench_import_memory.py                 # 200 MB each
    uv run python bench/bench_import_memory.py --mb 50

The value file has 100 KPIs over 12 months repeated: after the first 1,200 rows every row is a
duplicate, which is what a file exported wrongly (or sent to harm) looks like; the dataset file
is valid contact records.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, os, resource, sys, time
from datetime import date
from pathlib import Path
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("PACTBOARD_DEBUG", "true")
import django
django.setup()
from pactboard.core.errors import PactboardError
kind, path, store = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
started = time.perf_counter()
outcome = "ok"
try:
    if kind == "values":
        from pactboard.measurements.value_import import KpiRule, value_file_parse
        rules = {f"kpi_{i:03d}": KpiRule(code=f"kpi_{i:03d}", period_kind="month") for i in range(100)}
        parsed = value_file_parse(source=path, kpis=rules, first_period_day=date(2026, 1, 1),
                                  last_period_day=date(2026, 12, 31))
        outcome = f"{len(parsed.rows)} rows"
    else:
        from pactboard.measurements.ingest import dataset_file_ingest
        from pactboard.formulas.schema import CONTACTS
        result = dataset_file_ingest(source=path, schema=CONTACTS, dest_dir=store)
        outcome = f"{result.row_count} records"
except PactboardError as exc:
    outcome = f"refused: {exc.message[:120]} ({len(exc.details)} details)"
except BaseException as exc:
    outcome = f"crashed: {type(exc).__name__}: {str(exc)[:120]}"
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"kind": kind, "peak_mib": round(peak_kib / 1024), "seconds": round(time.perf_counter() - started, 1),
                  "outcome": outcome}))
"""


def values_file(path: Path, size: int) -> Path:
    if path.exists() and path.stat().st_size >= size:
        return path
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("kpi,period,value,note\n")
        i = 0
        while fh.tell() < size:
            lines = [
                f"kpi_{n % 100:03d},2026-{(n // 100) % 12 + 1:02d},{n % 97}.5,row {n}\n" for n in range(i, i + 10_000)
            ]
            fh.write("".join(lines))
            i += 10_000
    return path


def contacts_file(path: Path, size: int) -> Path:
    if path.exists() and path.stat().st_size >= size:
        return path
    header = (
        "contact_id,opened_at,answered_at,resolved_at,channel,first_contact_resolved,abandoned,csat,nps,"
        "handle_seconds,cost\n"
    )
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(header)
        i = 0
        while fh.tell() < size:
            lines = [
                f"C{n:09d},2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}T{n % 24:02d}:15:00Z,"
                f"2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}T{n % 24:02d}:16:30Z,,{('phone', 'chat', 'email')[n % 3]},"
                f"{('true', 'false')[n % 2]},false,{n % 5 + 1},,{120 + n % 300}.5,{2 + n % 7}.25\n"
                for n in range(i, i + 10_000)
            ]
            fh.write("".join(lines))
            i += 10_000
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200, help="size of each generated file in MB (default 200)")
    parser.add_argument("--dir", type=Path, default=None, help="where to keep the files (default: a temp folder)")
    parser.add_argument("--only", choices=("values", "records"), default=None)
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="pactboard-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    size = args.mb * 1_000_000
    started = time.perf_counter()
    files = {
        "values": values_file(folder / f"values-{args.mb}mb.csv", size),
        "records": contacts_file(folder / f"contacts-{args.mb}mb.csv", size),
    }
    print(f"files ready in {time.perf_counter() - started:.0f} s under {folder}", file=sys.stderr)
    for kind, path in files.items():
        if args.only and kind != args.only:
            continue
        store = Path(tempfile.mkdtemp(prefix="store-", dir=folder))
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, kind, str(path), str(store)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ},
        )
        line = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
        try:
            result = json.loads(line)
        except ValueError:
            result = {"kind": kind, "error": (done.stderr or line)[-500:], "returncode": done.returncode}
        result["file_mb"] = round(path.stat().st_size / 1_000_000)
        print(json.dumps(result))


if __name__ == "__main__":
    main()
