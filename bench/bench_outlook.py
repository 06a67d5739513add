"""Benchmark: the cost of trends and forecasts on the KPI page and the dashboard (docs/trends.md).

    uv run python bench/bench_outlook.py                 # 20 monthly KPIs x 60 months, 20 requests per page
    uv run python bench/bench_outlook.py --requests 50

Builds, through the services, one engagement with 20 monthly KPIs and five years of values
(2021-11 to 2026-10: level, trend, season and noise differ per KPI, so ETS chooses among its
models), then times with Django's test Client (in-process, server time):

- ``kpi_outlooks`` alone, forecasts not cached (every KPI fits its ETS models) and cached;
- the dashboard (20 tiles, each with the running month's forecast): first request after the
  forecast cache is cleared, then N requests warm; then after one new value (one KPI refits);
- the KPI page (60 periods): cold and warm likewise.

The database is Django's test database (created and dropped here), never the configured one.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("PACTBOARD_SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("PACTBOARD_ALLOWED_HOSTS", "testserver")

import django

started_import = time.perf_counter()
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from pactboard.accounts.middleware import SESSION_KEY  # noqa: E402
from pactboard.accounts.models import Membership, Organisation, Role, User  # noqa: E402
from pactboard.core.periods import Period, periods_between  # noqa: E402
from pactboard.engagements.models import Engagement, Objective  # noqa: E402
from pactboard.kpis import negotiation as kpi_negotiation  # noqa: E402
from pactboard.kpis import services as kpi_services  # noqa: E402
from pactboard.measurements import services as measurement_services  # noqa: E402
from pactboard.measurements.outlook import forecast_cache_clear, kpi_outlooks  # noqa: E402

BENCH_PASSWORD = "bench-password-123"  # noqa: S105 - throwaway users in a test database
MONTHS = periods_between("month", Period.parse("2021-11"), Period.parse("2026-10"))  # 60
KPIS = 20


def _member(email: str, org: Organisation) -> Membership:
    user = User.objects.create_user(email=email, password=BENCH_PASSWORD, full_name=email.split("@")[0])
    return Membership.objects.create(user=user, organisation=org, role=Role.MANAGER)


def _value(i: int, j: int) -> Decimal:
    """Deterministic: level 80, a drift of -0.1..+0.1 a month, a season of 0..4 and hashed noise of +/- 3."""
    drift = ((i % 5) - 2) * 0.05 * j
    season = (i % 3) * 2 * math.sin(2 * math.pi * j / 12)
    noise = ((j * 7919 + i * 104729) % 601) / 100 - 3
    return Decimal(f"{min(99.0, max(1.0, 80 + drift + season + noise)):.2f}")


def build() -> tuple[Membership, Membership, Engagement]:
    client_org = Organisation.objects.create(name="Bench Retail", slug="bench", kind="client")
    provider_org = Organisation.objects.create(name="Bench BPO", slug="bench-bpo", kind="provider")
    client, provider = _member("vera@bench.example", client_org), _member("pia@bpo.example", provider_org)
    engagement = Engagement.objects.create(
        client=client_org,
        provider=provider_org,
        name="Twenty KPIs, five years",
        start_date=date(2021, 11, 1),
        end_date=date(2027, 12, 31),
        currency="EUR",
        time_zone="Europe/Berlin",
        status=Engagement.Status.ACTIVE,
    )
    objective = Objective.objects.create(engagement=engagement, key="goal", statement="Serve customers well")
    draft = kpi_services.version_draft_start(actor=client, engagement=engagement)
    for i in range(KPIS):
        kpi_services.version_kpi_add(
            actor=client,
            version=draft,
            objective_ids=[objective.pk],
            code=f"kpi_{i:02d}",
            name=f"Indicator {i:02d}",
            category="operational",
            unit="%",
            direction="higher",
            period="month",
            target=Decimal(80),
            amber=Decimal(75),
            stretch=Decimal(90),
            min_value=Decimal(0),
            max_value=Decimal(100),
        )
    proposed = kpi_negotiation.version_propose(actor=client, version=draft, effective_from=engagement.start_date)
    kpi_negotiation.version_sign(actor=client, version=proposed)
    kpi_negotiation.version_sign(actor=provider, version=proposed)
    rows = [
        measurement_services.ValueRow(kpi_code=f"kpi_{i:02d}", period=p, value=_value(i, j))
        for i in range(KPIS)
        for j, p in enumerate(MONTHS)
    ]
    measurement_services.values_push(actor=provider, engagement=engagement, rows=rows)
    return client, provider, engagement


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.0f} ms"


def get(c: Client, url: str) -> tuple[float, int]:
    with CaptureQueriesContext(connection) as ctx:
        start = time.perf_counter()
        assert c.get(url).status_code == 200, url
        took = time.perf_counter() - start
    return took, len(ctx.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20, help="warm requests per page (default 20)")
    args = parser.parse_args()
    print(f"django.setup() with statsmodels imported by the URL conf: {ms(time.perf_counter() - started_import)}")
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        with override_settings(MAILERS={"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}):
            client, provider, engagement = build()
        c = Client()
        c.force_login(client.user)
        session = c.session
        session[SESSION_KEY] = client.pk
        session.save()
        dashboard = f"/engagements/{engagement.pk}/dashboard/"
        kpi_page = f"/engagements/{engagement.pk}/kpis/kpi_00/"
        c.get(f"/engagements/{engagement.pk}/")  # session and templates warm

        forecast_cache_clear()
        start = time.perf_counter()
        outlooks = kpi_outlooks(engagement=engagement, now=timezone.now())
        cold = time.perf_counter() - start
        start = time.perf_counter()
        kpi_outlooks(engagement=engagement, now=timezone.now())
        warm = time.perf_counter() - start
        models: dict[str, int] = {}
        for o in outlooks.values():
            assert o.forecast is not None
            models[o.forecast.model] = models.get(o.forecast.model, 0) + 1
        print(f"kpi_outlooks, {KPIS} KPIs x {len(MONTHS)} months: forecasts fitted {ms(cold)}, cached {ms(warm)}")
        print(f"models chosen: {models}")

        for label, url in (("dashboard (20 tiles)", dashboard), ("KPI page (60 periods)", kpi_page)):
            forecast_cache_clear()
            first, queries = get(c, url)
            times = [get(c, url)[0] for _ in range(args.requests)]
            print(
                f"{label:<24} first after cache cleared {ms(first)}; warm p50 "
                f"{ms(statistics.median(times))}, max {ms(max(times))}; {queries} queries"
            )
        measurement_services.measurement_record(
            actor=provider,
            engagement=engagement,
            kpi_code="kpi_03",
            period=MONTHS[-1],
            value=Decimal("71.5"),
            reason="bench: a correction",
        )
        after, _ = get(c, dashboard)
        print(f"dashboard after one value is revised (one KPI refits): {ms(after)}")
        print(f"load average: {os.getloadavg()[0]:.1f} (1 min)")
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
