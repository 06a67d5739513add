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
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("PACTBOARD_SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("PACTBOARD_ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402

from pactboard.accounts.middleware import SESSION_KEY  # noqa: E402
from pactboard.accounts.models import Membership, Organisation, Role, User  # noqa: E402
from pactboard.core.periods import Period, periods_between  # noqa: E402
from pactboard.dashboards.selectors import engagement_stamp  # noqa: E402
from pactboard.engagements.models import Engagement, Objective  # noqa: E402
from pactboard.kpis import services as kpi_services  # noqa: E402
from pactboard.measurements import services as measurement_services  # noqa: E402

BENCH_PASSWORD = "bench-password-123"  # noqa: S105 - throwaway users in a test database
MONTHS = periods_between("month", Period.parse("2024-01"), Period.parse("2026-12"))  # 36


def _member(email: str, org: Organisation) -> Membership:
    user = User.objects.create_user(email=email, password=BENCH_PASSWORD, full_name=email.split("@")[0])
    return Membership.objects.create(user=user, organisation=org, role=Role.MANAGER)


def _engagement(client: Membership, provider: Membership, name: str, kpis: int) -> Engagement:
    engagement = Engagement.objects.create(
        client=client.organisation,
        provider=provider.organisation,
        name=name,
        start_date=date(2024, 1, 1),
        end_date=date(2026, 12, 31),
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
    proposed = kpi_services.version_propose(actor=client, version=draft, effective_from=date(2024, 1, 1))
    kpi_services.version_sign(actor=client, version=proposed)
    kpi_services.version_sign(actor=provider, version=proposed)
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


def timed(c: Client, url: str, n: int, *, expect: int = 200, **headers: str) -> tuple[list[float], int]:
    for _ in range(5):
        assert c.get(url, **headers).status_code == expect, url  # type: ignore[arg-type]
    with CaptureQueriesContext(connection) as ctx:
        c.get(url, **headers)  # type: ignore[arg-type]
    queries = len(ctx.captured_queries)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = c.get(url, **headers)  # type: ignore[arg-type]
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == expect
    return times, queries


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page (default 200)")
    args = parser.parse_args()
    vendor = connection.vendor
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        started = time.perf_counter()
        with override_settings(MAILERS={"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}):
            client, big = build()
        print(f"{vendor}: built 50 engagements (20 + 49 x 8 KPIs, 36 months) in {time.perf_counter() - started:.0f} s")
        c = Client()
        c.force_login(client.user)
        session = c.session
        session[SESSION_KEY] = client.pk
        session.save()
        stamp = engagement_stamp(engagement_id=big.pk)
        pages: list[tuple[str, str, int, dict[str, str]]] = [
            ("engagement dashboard (20 KPIs x 36 months)", f"/engagements/{big.pk}/dashboard/", 200, {}),
            ("KPI page (36 periods)", f"/engagements/{big.pk}/kpis/kpi_00/", 200, {}),
            ("portfolio (50 engagements)", "/portfolio/", 200, {}),
            (
                "live poll, nothing changed",
                f"/engagements/{big.pk}/dashboard/?since={stamp}",
                204,
                {"HTTP_HX_REQUEST": "true"},
            ),
        ]
        print(f"\n{vendor}, {args.requests} requests each, server time in ms (Django test Client, in-process)")
        print(f"{'page':<46} {'p50':>7} {'p95':>7} {'max':>7} {'queries':>8}")
        run: Callable[..., tuple[list[float], int]] = timed
        for label, url, status, headers in pages:
            times, queries = run(c, url, args.requests, expect=status, **headers)
            print(f"{label:<46} {pct(times, 50):7.1f} {pct(times, 95):7.1f} {max(times):7.1f} {queries:8d}")
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
