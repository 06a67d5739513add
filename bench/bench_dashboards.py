"""Benchmark: server time of the dashboards, in-process with Django's test Client.

    uv run python bench/bench_dashboards.py                    # SQLite (a fresh test database)
    DATABASE_URL=postgresql://... uv run python bench/bench_dashboards.py   # PostgreSQL too
    uv run python bench/bench_dashboards.py --requests 300

Builds, through the services, one client with 50 engagements (5 providers; 8 monthly KPIs and
36 months of values each) and one engagement with 20 KPIs x 36 months; then times, per page, N
requests after a warm-up: the engagement dashboard (20 KPIs), the KPI page (36 periods), the
portfolio (50 engagements) and the live poll when nothing changed (the 204 every open page asks
for each second). Server time is the wall time of ``Client.get`` (middleware, views, templates,
queries), without a network or a browser. Goal: p95 < 150 ms on a 2-core machine.
The database is Django's test database (created and dropped here), never the configured one.

    uv run python bench/bench_dashboards.py --contention         # the pages alone, then beside a compute

``--profile dashboard`` (or portfolio, KPI page; "dashboard (20 KPIs x 36 months), warm" for the cache hit)
prints where 20 requests of that page spend their time (``--profile-sort cumulative`` for the tree).

Dashboard and portfolio are timed twice: **cold**, the page cache emptied before each request (what
the first request after a write costs: everything computed and rendered), and **warm**, their
fragments from the cache (every request until the next write). Report both.

``--contention`` times the pages twice: alone, then while a worker-like process computes the 8
contacts KPIs per provider and month over 10 M records again and again (bench_datasets.py's
compute, with the worker's PACTBOARD_DUCKDB_THREADS and PACTBOARD_DUCKDB_MEMORY_LIMIT). Goal:
portfolio p95 < 150 ms and dashboard p95 < 60 ms while it runs.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("PACTBOARD_SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("PACTBOARD_ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from config.startup import serving_ready  # noqa: E402
from pactboard.accounts.middleware import SESSION_KEY  # noqa: E402
from pactboard.accounts.models import Membership, Organisation, Role, User  # noqa: E402
from pactboard.core.periods import latest_closed_period, periods_between  # noqa: E402
from pactboard.dashboards.pagecache import page_cache_clear  # noqa: E402
from pactboard.dashboards.selectors import engagement_stamp  # noqa: E402
from pactboard.engagements.models import Engagement, Objective  # noqa: E402
from pactboard.kpis import negotiation as kpi_negotiation  # noqa: E402
from pactboard.kpis import services as kpi_services  # noqa: E402
from pactboard.measurements import services as measurement_services  # noqa: E402
from pactboard.measurements.models import Measurement  # noqa: E402

BENCH_PASSWORD = "bench-password-123"  # noqa: S105 - throwaway users in a test database
# The 36 months up to the last one that has ended: values for a month not yet begun are refused.
_LAST = latest_closed_period("month", now=datetime.now(UTC), tz="Europe/Berlin")
MONTHS = periods_between("month", _LAST.shift(-35), _LAST)  # 36


def _member(email: str, org: Organisation) -> Membership:
    user = User.objects.create_user(email=email, password=BENCH_PASSWORD, full_name=email.split("@")[0])
    return Membership.objects.create(user=user, organisation=org, role=Role.MANAGER)


def _engagement(client: Membership, provider: Membership, name: str, kpis: int) -> Engagement:
    engagement = Engagement.objects.create(
        client=client.organisation,
        provider=provider.organisation,
        name=name,
        start_date=MONTHS[0].start,
        end_date=date(MONTHS[-1].start.year + 1, 12, 31),
        currency="EUR",
        time_zone="Europe/Berlin",
        status=Engagement.Status.ACTIVE,
    )
    objective = Objective.objects.create(engagement=engagement, key="goal", statement="Serve customers well")
    draft = kpi_services.version_draft_start(actor=client, engagement=engagement)
    for i in range(kpis):
        higher = i % 2 == 0
        kpi_services.version_kpi_add(
            actor=client,
            version=draft,
            objective_ids=[objective.pk],
            code=f"kpi_{i:02d}",
            name=f"Indicator {i:02d}",
            category="operational",
            unit="%",
            direction="higher" if higher else "lower",
            period="month",
            target=Decimal(80 if higher else 20),
            amber=Decimal(75 if higher else 25),
            stretch=Decimal(90 if higher else 15),
            weight=Decimal(1 + i % 3),
            baseline_value=Decimal(70),
            baseline_period="2023-Q4",
            min_value=Decimal(0),
            max_value=Decimal(100),
        )
    proposed = kpi_negotiation.version_propose(actor=client, version=draft, effective_from=MONTHS[0].start)
    kpi_negotiation.version_sign(actor=client, version=proposed)
    kpi_negotiation.version_sign(actor=provider, version=proposed)
    rows = [
        measurement_services.ValueRow(
            kpi_code=f"kpi_{i:02d}",
            period=p,
            value=Decimal(70 + (j * 7 + i * 3 + len(name)) % 25) if i % 2 == 0 else Decimal(6 + (j * 5 + i) % 25),
        )
        for i in range(kpis)
        for j, p in enumerate(MONTHS)
    ]
    measurement_services.values_push(actor=provider, engagement=engagement, rows=rows)
    return engagement


def build() -> tuple[Membership, Engagement]:
    client_org = Organisation.objects.create(name="Bench Retail", slug="bench", kind="client")
    client = _member("vera@bench.example", client_org)
    providers = []
    for p in range(5):
        org = Organisation.objects.create(name=f"Provider {p}", slug=f"provider-{p}", kind="provider")
        providers.append(_member(f"admin@provider{p}.example", org))
    big = _engagement(client, providers[0], "Twenty KPIs", 20)
    for e in range(49):
        _engagement(client, providers[e % 5], f"Engagement {e:02d}", 8)
    return client, big


def timed(
    c: Client,
    url: str,
    n: int,
    *,
    expect: int = 200,
    cpu: list[float] | None = None,
    cold: bool = False,
    before: Callable[[], object] | None = None,
    **headers: str,
) -> tuple[list[float], int]:
    """Wall ms per request; with ``cpu``, also this thread's CPU ms per request (time spent working, not waiting).

    ``cold``: the page cache is emptied before each request (untimed), as after a write: every request
    computes and renders the page's fragments. Otherwise they come from the cache (warm).
    ``before``: called before each request (untimed), e.g. a write to one engagement.
    """
    for _ in range(5):
        assert c.get(url, **headers).status_code == expect, url  # type: ignore[arg-type]
    if cold:
        page_cache_clear()
    if before:
        before()
    with CaptureQueriesContext(connection) as ctx:
        c.get(url, **headers)  # type: ignore[arg-type]
    queries = len(ctx.captured_queries)
    times = []
    for _ in range(n):
        if cold:
            page_cache_clear()
        if before:
            before()
        start, start_cpu = time.perf_counter(), time.thread_time()
        response = c.get(url, **headers)  # type: ignore[arg-type]
        times.append((time.perf_counter() - start) * 1000)
        if cpu is not None:
            cpu.append((time.thread_time() - start_cpu) * 1000)
        assert response.status_code == expect
    return times, queries


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


HERE = Path(__file__).resolve().parent


def compute_start(rows: int, nice: int = 0) -> tuple[subprocess.Popen[bytes], Path]:
    """Start computing the contacts KPIs over ``rows`` records in a loop, as the worker would."""
    sys.path.insert(0, str(HERE))
    from bare_duckdb import generate_parquet  # only the contention mode needs it

    data = HERE / "data"
    data.mkdir(exist_ok=True)
    parquet = data / f"contacts-{rows}-50p-24m-seed42.parquet"
    if not parquet.exists():
        print(f"writing {parquet.name} ...", flush=True)
        generate_parquet(parquet, rows=rows, providers=50, months=24, seed=42)
    result = data / "contention-compute.json"
    result.with_suffix(".runs").unlink(missing_ok=True)
    args = {
        "parquet": str(parquet),
        "tz": "Europe/Berlin",
        "result": str(result),
        "threads": settings.DUCKDB_THREADS,
        "memory_limit": settings.DUCKDB_MEMORY_LIMIT,
    }
    command = [sys.executable, str(HERE / "bench_datasets.py"), "--phase", "compute_loop", "--phase-args"]
    child = subprocess.Popen(
        [*command, json.dumps(args)],
        stdout=subprocess.DEVNULL,
        preexec_fn=(lambda: os.nice(nice)) if nice else None,  # as the worker lowers its own (PACTBOARD_WORKER_NICE)
    )
    time.sleep(3)  # past start-up and imports: into the scan
    return child, result.with_suffix(".runs")


Page = tuple[str, str, int, dict[str, str], bool | Callable[[], object]]  # label, URL, status, headers, cold


def one_write(engagement_id: int) -> Callable[[], object]:
    """A write to one engagement's values (its newest change moves on), as a correction would make."""
    pk = Measurement.objects.filter(engagement_id=engagement_id).values_list("pk", flat=True).first()

    def write() -> object:
        return Measurement.objects.filter(pk=pk).update(updated_at=timezone.now())

    return write


def pages_time(c: Client, pages: list[Page], n: int) -> None:
    print(f"{'page':<58} {'p50':>7} {'p95':>7} {'max':>7} {'queries':>8} {'CPU p50':>8} {'CPU p95':>8}")
    for label, url, status, headers, cold in pages:
        cpu: list[float] = []
        before = None if isinstance(cold, bool) else cold
        times, queries = timed(c, url, n, expect=status, cpu=cpu, cold=cold is True, before=before, **headers)
        print(
            f"{label:<58} {pct(times, 50):7.1f} {pct(times, 95):7.1f} {max(times):7.1f} {queries:8d} "
            f"{pct(cpu, 50):8.1f} {pct(cpu, 95):8.1f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page (default 200)")
    parser.add_argument("--contention", action="store_true", help="time the pages alone, then beside a compute")
    parser.add_argument("--compute-rows", type=int, default=10_000_000, help="records of that compute")
    parser.add_argument(
        "--compute-nice",
        type=int,
        default=settings.WORKER_NICE,
        help="run that compute with this niceness, 0-19 (default: the worker's, PACTBOARD_WORKER_NICE)",
    )
    parser.add_argument("--profile", metavar="PAGE", help="print the page's top functions by cProfile")
    parser.add_argument("--profile-callees", metavar="FUNCTION", help="with --profile: what FUNCTION calls")
    parser.add_argument("--queries", metavar="PAGE", help="print each SQL query of one request of the page, timed")
    parser.add_argument(
        "--profile-sort", default="tottime", help="cProfile order for --profile: tottime (default) or cumulative"
    )
    args = parser.parse_args()
    vendor = connection.vendor
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        started = time.perf_counter()
        with override_settings(MAILERS={"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}):
            client, big = build()
        other = Engagement.objects.exclude(pk=big.pk).order_by("pk").first()
        assert other is not None
        print(f"{vendor}: built 50 engagements (20 + 49 x 8 KPIs, 36 months) in {time.perf_counter() - started:.0f} s")
        # As a serving process does once loaded (config/wsgi.py): what is alive now is left out of the
        # collector's full walks, which otherwise pause a request for ~140 ms now and then.
        serving_ready()
        c = Client()
        c.force_login(client.user)
        session = c.session
        session[SESSION_KEY] = client.pk
        session.save()
        stamp = engagement_stamp(engagement_id=big.pk)
        dashboard, portfolio = f"/engagements/{big.pk}/dashboard/", "/portfolio/"
        # Cold: the page cache emptied before each request (the first request after a write).
        # Warm: the page's fragments from the cache (every later request until the next write).
        pages: list[Page] = [
            ("engagement dashboard (20 KPIs x 36 months), cold", dashboard, 200, {}, True),
            ("engagement dashboard (20 KPIs x 36 months), warm", dashboard, 200, {}, False),
            ("KPI page (36 periods)", f"/engagements/{big.pk}/kpis/kpi_00/", 200, {}, False),
            ("portfolio (50 engagements), cold", portfolio, 200, {}, True),
            ("portfolio (50 engagements), warm", portfolio, 200, {}, False),
            ("portfolio (50 engagements), after a write to one", portfolio, 200, {}, one_write(other.pk)),
            ("live poll, nothing changed", f"{dashboard}?since={stamp}", 204, {"HTTP_HX_REQUEST": "true"}, False),
        ]
        if args.queries:
            url, cold = next((u, cold is True) for label, u, _, _, cold in pages if args.queries in label)
            for _ in range(3):
                c.get(url)
            if cold:
                page_cache_clear()
            with CaptureQueriesContext(connection) as ctx:
                c.get(url)
            for q in ctx.captured_queries:
                print(f"{float(q['time']) * 1000:7.1f} ms  {q['sql'][:150]}")
            return
        if args.profile:
            import cProfile
            import pstats

            url, cold = next((u, cold is True) for label, u, _, _, cold in pages if args.profile in label)
            c.get(url)
            with cProfile.Profile() as profiler:
                for _ in range(20):
                    if cold:
                        page_cache_clear()
                    c.get(url)
            stats = pstats.Stats(profiler).sort_stats(args.profile_sort)
            stats.print_stats(45)
            if args.profile_callees:
                stats.print_callees(args.profile_callees)
            return
        print(f"\n{vendor}, {args.requests} requests each, server time in ms (Django test Client, in-process)")
        pages_time(c, pages, args.requests)
        print("load average: {:.2f} {:.2f} {:.2f} (1, 5, 15 min)".format(*os.getloadavg()))
        if args.contention:
            child, runs = compute_start(args.compute_rows, args.compute_nice)
            try:
                started = time.perf_counter()
                print(
                    f"\nthe same, beside a compute of {args.compute_rows:,} records in a loop "
                    f"(DuckDB threads {settings.DUCKDB_THREADS}, memory limit {settings.DUCKDB_MEMORY_LIMIT}, "
                    f"nice {args.compute_nice})"
                )
                pages_time(c, pages, args.requests)
                print("load average: {:.2f} {:.2f} {:.2f} (1, 5, 15 min)".format(*os.getloadavg()))
                alive = child.poll() is None
                done = runs.read_text() if runs.exists() else "0"
                print(
                    f"compute process running throughout: {'yes' if alive else 'NO'}; computes finished meanwhile: "
                    f"{done} in {time.perf_counter() - started:.0f} s"
                )
            finally:
                child.send_signal(signal.SIGTERM)
                child.wait()
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
