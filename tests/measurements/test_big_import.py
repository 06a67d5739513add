"""An import with one bad row in 10,000 writes nothing and reports that row; a good one writes everything.

10,000 distinct (KPI, period) rows: an agreed version with 100 weekly KPIs, over 100 ISO weeks. The same
files go through the browser in tests/e2e/test_import_flow.py.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from pactboard.core.periods import Period
from pactboard.engagements.models import Engagement
from pactboard.kpis import negotiation as kpi_negotiation
from pactboard.kpis import services as kpi_services
from pactboard.kpis.models import AgreementVersion
from pactboard.measurements.models import ImportBatch, Measurement, Revision
from pactboard.measurements.verify import measurements_verify
from tests.conftest import World

pytestmark = pytest.mark.django_db

KPIS = 100
WEEKS = 100
FIRST_WEEK = Period.parse("2026-W01")
# The bad row: the 7,777th value, which is row 7,778 of the file (the header is row 1).
BAD_INDEX = 7_776
BAD_ROW = BAD_INDEX + 2
# The 100 weeks run to 2027-W48 (from 22 November 2027); values are refused for weeks not yet begun,
# so the clock is set after the last one (and before the engagement ends on 31 December 2027).
AFTER_THE_LAST_WEEK = datetime(2027, 12, 1, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _after_the_last_week(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: AFTER_THE_LAST_WEEK)


def weekly_kpis_agree(world: World, engagement: Engagement | None = None) -> AgreementVersion:
    """An agreed version of ``KPIS`` weekly KPIs (counts of items handled, higher is better)."""
    engagement = engagement or world.engagement
    actor = world.client_manager
    draft = kpi_services.version_draft_start(actor=actor, engagement=engagement, empty=True)
    for i in range(KPIS):
        kpi_services.version_kpi_add(
            actor=actor,
            version=draft,
            objective_ids=[world.objective.pk],
            code=f"queue_{i:03d}_items",
            name=f"Items handled, queue {i:03d}",
            category="operational",
            unit="count",
            direction="higher",
            period="week",
            target=Decimal(500),
            amber=Decimal(450),
            min_value=Decimal(0),
            source="import",
        )
    proposed = kpi_negotiation.version_propose(actor=actor, version=draft, effective_from=date(2026, 1, 1))
    kpi_negotiation.version_sign(actor=world.client_manager, version=proposed)
    kpi_negotiation.version_sign(actor=world.provider_manager, version=proposed)
    proposed.refresh_from_db()
    return proposed


def value_rows(*, bad: bool) -> list[tuple[str, str, str]]:
    """KPIS x WEEKS rows (kpi, period, value); with ``bad``, row ``BAD_ROW`` has a value that is not a number."""
    weeks = [FIRST_WEEK.shift(w).label for w in range(WEEKS)]
    rows = [
        (f"queue_{i:03d}_items", week, str(400 + (i * 7 + w * 3) % 200))
        for i in range(KPIS)
        for w, week in enumerate(weeks)
    ]
    if bad:
        kpi, week, _ = rows[BAD_INDEX]
        rows[BAD_INDEX] = (kpi, week, "4O2")  # a letter O typed for a zero
    return rows


def values_file_write(path: Path, *, bad: bool) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["kpi", "period", "value", "note"])
        writer.writerows([(*row, "") for row in value_rows(bad=bad)])
    return path


@pytest.fixture(autouse=True)
def _weekly(world: World) -> AgreementVersion:
    return weekly_kpis_agree(world)


def test_cli_bad_row_in_10000_writes_nothing_and_names_the_row(world: World, tmp_path):
    bad = values_file_write(tmp_path / "weekly-bad.csv", bad=True)
    assert sum(1 for _ in bad.open(encoding="utf-8")) == KPIS * WEEKS + 1
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problems listed above"):
        call_command(
            "measurements", "import", str(world.engagement.pk), str(bad), "--as", "pedro@helpline.example", stderr=err
        )
    assert err.getvalue().splitlines()[0].startswith(f"row {BAD_ROW}, column value: ")
    assert "4O2" in err.getvalue()
    batch = ImportBatch.objects.get()
    assert (batch.status, len(batch.errors), batch.errors[0]["location"]) == (
        "failed",
        1,
        f"row {BAD_ROW}, column value",
    )
    assert not Measurement.objects.exists()
    assert not Revision.objects.exists()


def test_cli_good_file_of_10000_writes_every_value_with_its_provenance(world: World, tmp_path):
    good = values_file_write(tmp_path / "weekly.csv", bad=False)
    out = io.StringIO()
    call_command("measurements", "import", "Acme support", str(good), "--as", "pedro@helpline.example", stdout=out)
    assert "10000 new values, 0 corrected, 0 unchanged." in out.getvalue()
    assert Measurement.objects.count() == KPIS * WEEKS
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.rows_written) == ("done", KPIS * WEEKS)
    # The value of the row that was bad in the other file, traced to its line.
    kpi, week, value = value_rows(bad=False)[BAD_INDEX]
    rev = Revision.objects.get(measurement__kpi_code=kpi, measurement__period_start=Period.parse(week).start)
    assert (rev.value, rev.file_line, rev.file_sha256) == (Decimal(value), BAD_ROW, batch.file_sha256)
    checked, mismatches = measurements_verify(engagement=world.engagement)
    assert (checked, mismatches) == (KPIS * WEEKS, [])
