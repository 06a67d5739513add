"""Backtest: how often the forecast intervals cover the value that came (rolling origin, simulated series).

    uv run python bench/bench_forecasts.py                        # defaults below, a few minutes
    uv run python bench/bench_forecasts.py --series 2 --length 30 # quick check
    uv run python bench/bench_forecasts.py --demo                 # the demo's monthly KPI series

For each simulated monthly series (seeded, so every run prints the same figures) and each origin
from the 3rd value on, ``series_forecast`` sees the values up to the origin and forecasts the
next ``--horizons`` periods; a forecast "covers" when the realised value lies inside its 80 % (or
95 %) interval. A well-calibrated method covers about 80 % and 95 % of the time. The method is
whatever the module chooses for that much history (the mean below 10 values, ETS from 10), so
the table reports each method separately, per horizon and per kind of series.

Kinds (all with Gaussian noise): ``level`` (constant 100, sd 5), ``trend`` (100 + 0.5 t, sd 3),
``seasonal`` (100 + 8 sin(2 pi t / 12), sd 2), ``ar1`` (100 + AR(1) with phi 0.6, sd 3),
``random_walk`` (100 + cumulative N(0, 2)).

``--demo`` backtests the demo's own monthly KPI series instead (``pactboard/demo/history.py``:
FCR, service level, CSAT, handle time, accuracy, turnaround, cost per acquisition, revenue growth;
18 months each), the histories a user of ``pactboard demo`` sees forecast; the kind column then
names the KPI.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pactboard.scoring.forecasts import series_forecast

KINDS = ("level", "trend", "seasonal", "ar1", "random_walk")


def simulate(kind: str, length: int, rng: np.random.Generator) -> list[float]:
    t = np.arange(length)
    if kind == "level":
        y = 100 + rng.normal(0, 5, length)
    elif kind == "trend":
        y = 100 + 0.5 * t + rng.normal(0, 3, length)
    elif kind == "seasonal":
        y = 100 + 8 * np.sin(2 * math.pi * t / 12) + rng.normal(0, 2, length)
    elif kind == "ar1":
        e = rng.normal(0, 3, length)
        y = np.empty(length)
        y[0] = e[0] / math.sqrt(1 - 0.36)  # start in the stationary distribution
        for i in range(1, length):
            y[i] = 0.6 * y[i - 1] + e[i]
        y = 100 + y
    else:
        y = 100 + np.cumsum(rng.normal(0, 2, length))
    return [float(v) for v in y]


def demo_series() -> list[tuple[str, list[float]]]:
    """The demo's monthly KPI series, as pactboard/demo/history.py writes them (18 months each)."""
    import os

    os.environ.setdefault("PACTBOARD_DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from pactboard.demo import history

    names = ("FCR", "SERVICE_LEVEL", "CSAT", "AHT_SECONDS", "ACCURACY", "TURNAROUND_HOURS", "CPA", "REVENUE_GROWTH")
    return [(name.lower(), [float(v) for v in getattr(history, name)]) for name in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=3, help="series per kind")
    parser.add_argument("--length", type=int, default=36, help="months per series")
    parser.add_argument("--horizons", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--demo", action="store_true", help="backtest the demo's KPI series instead")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    # (method, horizon) and (method, kind) -> [forecasts, covered by 80 %, covered by 95 %]
    by_horizon: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    by_kind: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    models: dict[str, int] = defaultdict(int)
    started = time.perf_counter()
    if args.demo:
        runs = demo_series()
    else:
        runs = [(kind, simulate(kind, args.length, rng)) for kind in KINDS for _ in range(args.series)]
    for kind, y in runs:
        for origin in range(3, len(y)):
            horizons = [h for h in args.horizons if origin + h <= len(y)]
            if not horizons:
                continue
            result = series_forecast(values=y[:origin], horizons=horizons, season_length=12)
            models[result.model.split(", season")[0] if result.method == "ets" else result.method] += 1
            for predictive in result.predictions:
                actual = y[origin + predictive.horizon - 1]
                lo80, hi80 = predictive.interval(0.8)
                lo95, hi95 = predictive.interval(0.95)
                hits = (1, int(lo80 <= actual <= hi80), int(lo95 <= actual <= hi95))
                for table, key in (
                    (by_horizon, (result.method, predictive.horizon)),
                    (by_kind, (result.method, kind)),
                ):
                    table[key] = [a + b for a, b in zip(table[key], hits, strict=True)]
    elapsed = time.perf_counter() - started

    what = (
        f"the demo's {len(runs)} monthly KPI series"
        if args.demo
        else f"seed {args.seed}; {args.series} series x {len(KINDS)} kinds x {args.length} months"
    )
    print(f"{what}; horizons {args.horizons}; {elapsed:.0f} s")
    print("\n| method | horizon | forecasts | 80 % interval covered | 95 % interval covered |")
    print("|---|---|---|---|---|")
    for (method, horizon), (n, c80, c95) in sorted(by_horizon.items()):
        print(f"| {method} | {horizon} | {n} | {c80 / n:.1%} | {c95 / n:.1%} |")
    print("\n| method | kind | forecasts | 80 % interval covered | 95 % interval covered |")
    print("|---|---|---|---|---|")
    for (method, kind), (n, c80, c95) in sorted(by_kind.items()):
        print(f"| {method} | {kind} | {n} | {c80 / n:.1%} | {c95 / n:.1%} |")
    print("\nmodels chosen (origins):", ", ".join(f"{k} {v}" for k, v in sorted(models.items())))


if __name__ == "__main__":
    main()
