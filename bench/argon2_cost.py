"""What one password hash costs on this machine: time and memory, per Argon2 parameter set.

    uv run python bench/argon2_cost.py

Each parameter set is measured in a fresh process (so its peak memory is its own): the median time
of a few hashes and the process's peak resident memory above a baseline without any hash. The
figures go in docs/deployment.md ("Password hashing").
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time

SETS = {
    "Django default (m=100 MiB, t=2, p=8)": (102400, 2, 8),
    "Pactboard (m=19 MiB, t=2, p=1)": (19456, 2, 1),
}
ROUNDS = 5


def _child(memory_cost: int, time_cost: int, parallelism: int) -> None:
    from argon2.low_level import Type, hash_secret

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    for n in range(ROUNDS):
        start = time.perf_counter()
        hash_secret(
            b"correct-horse-battery-staple",
            f"saltsalt{n:08d}".encode(),
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            hash_len=32,
            type=Type.ID,
        )
        times.append(time.perf_counter() - start)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"median_ms": statistics.median(times) * 1000, "peak_mib": (after - before) / 1024}))


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _child(*(int(a) for a in sys.argv[2:]))
        return
    print(f"{'parameters':<40} {'median time':>12} {'memory':>10}")
    for label, params in SETS.items():
        out = subprocess.run(
            [sys.executable, __file__, "--child", *map(str, params)], capture_output=True, text=True, check=True
        )
        figures = json.loads(out.stdout)
        print(f"{label:<40} {figures['median_ms']:>9.0f} ms {figures['peak_mib']:>6.0f} MiB")


if __name__ == "__main__":
    main()
