"""Writing values locks the values it writes, never the engagement's row.

Found by the load benchmark (bench/bench_load.py) on PostgreSQL: the lock query ordered by the
model's default ordering (engagement, then KPI and period), which joins the engagement table, and
``FOR UPDATE`` without ``OF`` then also locked the engagement's row. A second writer of the same
engagement that held the engagement's audit-chain lock (an advisory lock) and was committing had
to check its foreign keys to that row (``FOR KEY SHARE``, deferred to COMMIT) while the first
waited for the audit lock: a deadlock, answered 500 to one of them.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pactboard.core.periods import Period
from pactboard.measurements import services
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_a_value_write_reads_and_locks_only_measurement_rows(world: World, agreed):
    services.measurement_record(
        actor=world.provider_manager,
        engagement=world.engagement,
        kpi_code="escalations",
        period=Period.parse("2026-09"),
        value=Decimal("12"),
    )
    with CaptureQueriesContext(connection) as ctx:
        services.measurement_record(
            actor=world.provider_manager,
            engagement=world.engagement,
            kpi_code="escalations",
            period=Period.parse("2026-10"),
            value=Decimal("9"),
        )
    reads = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith("SELECT")
        and 'FROM "measurements_measurement"' in q["sql"]
        and '"kpi_code" IN' in q["sql"]
    ]
    assert reads, "the write reads the existing values it may revise"
    for sql in reads:
        assert '"engagements_engagement"' not in sql, sql
        if connection.vendor == "postgresql":
            assert 'FOR UPDATE OF "measurements_measurement"' in sql, sql
