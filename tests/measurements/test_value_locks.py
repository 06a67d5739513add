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


@pytest.mark.django_db(transaction=True)
def test_a_new_version_being_stored_never_blocks_an_upload_being_recorded(world: World, agreed):
    """The worker storing a version locks its dataset's row; a web request recording another upload of that
    dataset inserts an import batch pointing at the row, whose foreign key PostgreSQL checks at COMMIT with
    ``FOR KEY SHARE``. Under ``FOR UPDATE`` that check waited for the worker, which waited for the audit
    lock the request held: a deadlock (bench/bench_load.py, two uploads answered 500). The request must
    commit while the row is locked."""
    import threading

    from django.db import OperationalError, transaction

    from pactboard.measurements.models import Dataset, ImportBatch
    from pactboard.measurements.services.datasets import dataset_lock

    if connection.vendor != "postgresql":
        pytest.skip("row lock strengths are PostgreSQL's; SQLite locks the whole database for a write")
    dataset = services.dataset_declare(
        actor=world.client_manager, engagement=world.engagement, name="contacts", standard="contacts"
    )
    locked, release = threading.Event(), threading.Event()

    def worker() -> None:
        try:
            with transaction.atomic():
                dataset_lock(dataset_id=dataset.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert locked.wait(10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            ImportBatch.objects.create(
                engagement=world.engagement,
                dataset=Dataset.objects.get(pk=dataset.pk),
                kind=ImportBatch.Kind.RECORDS,
                file_name="oct.csv",
                stored_path="uploads/x.csv",
                file_sha256="0" * 64,
                created_by=world.provider_manager.user,
                created_by_org=world.provider_org,
            )
    except OperationalError as exc:  # lock_timeout: the commit waited for the worker's lock
        pytest.fail(f"recording the upload waited for the dataset's lock: {exc}")
    finally:
        release.set()
        thread.join()
