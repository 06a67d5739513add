"""Availability KPIs from an outages dataset: each period's exact minutes, outages clipped to it.

Expected values: (measured minutes - downtime minutes) / measured minutes x 100, rounded half up
to 6 places (the stored precision); minutes of a month are days x 1,440, +/- 60 in a Europe/Berlin
month with a DST change (25 October 2026: +60, so October has 44,700).
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pactboard.core.periods import Period
from pactboard.formulas import ParquetFiles, formula_compile
from pactboard.formulas.schema import OUTAGES, STANDARD_SCHEMAS
from pactboard.kpis import negotiation as kpi_negotiation
from pactboard.kpis import services as kpi_services
from pactboard.kpis.catalogue import catalogue_get
from pactboard.measurements import services
from pactboard.measurements.availability import availability_entry, availability_values
from pactboard.measurements.models import Measurement
from tests.conftest import World

D = Decimal
_ARROW = {"timestamp": pa.timestamp("us", tz="UTC"), "boolean": pa.bool_(), "text": pa.string()}
OCT, NOV = Period.parse("2026-10", "month"), Period.parse("2026-11", "month")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _parquet(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    path = tmp_path / "outages.parquet"
    columns = {c.name: pa.array([r.get(c.name) for r in rows], type=_ARROW[c.type]) for c in OUTAGES.columns}
    pq.write_table(pa.table(columns), path)
    return path


def _values(path: Path, code: str, *, tz: str = "UTC", row_filter: str | None = None, now: str = "2026-12-15T00:00"):
    entry = catalogue_get(code)
    formula = formula_compile(expression=entry.formula, schema=OUTAGES, row_filter=row_filter)
    return availability_values(
        entries={code: entry},
        formulas={code: formula},
        parquet=ParquetFiles((str(path),)),
        periods=[OCT, NOV],
        tz=tz,
        now=_at(now),
    )[code]


def test_the_standard_dataset_and_the_catalogue_entries() -> None:
    assert STANDARD_SCHEMAS["outages"] is OUTAGES
    assert availability_entry(code="monthly_uptime", dataset="outages") is catalogue_get("monthly_uptime")
    # A KPI with the code but reading another dataset is not derived.
    assert availability_entry(code="monthly_uptime", dataset="contacts") is None
    assert availability_entry(code="revenue_growth", dataset="invoices") is None


def test_whole_minutes_round_a_touched_minute_up_and_exact_does_not(tmp_path: Path) -> None:
    # 10:00:30-10:01:10 is 40 s but touches two clock minutes (10:00 and 10:01).
    path = _parquet(
        tmp_path,
        [{"started_at": _at("2026-10-05T10:00:30"), "ended_at": _at("2026-10-05T10:01:10"), "service": "api",
          "maintenance": False}],
    )  # fmt: skip
    # Whole minutes: (44,640 - 2) / 44,640 x 100 = 99.995519... -> 99.995520.
    assert _values(path, "monthly_uptime_whole_minutes")[OCT] == D("99.995520")
    # Exact: 40 s = 2/3 min; (44,640 - 2/3) / 44,640 x 100 = 99.998506... -> 99.998507.
    assert _values(path, "monthly_uptime")[OCT] == D("99.998507")
    assert _values(path, "monthly_uptime")[NOV] == 100
    # Partial minutes dropped: 40 s is no whole minute, so no downtime at all.
    assert _values(path, "monthly_uptime_partial_minutes_dropped")[OCT] == 100


def test_partial_minutes_dropped_counts_the_whole_minutes_of_each_outage(tmp_path: Path) -> None:
    # 10:00:30-10:03:00 is 150 s: 2 whole minutes (the half minute is dropped); 11:00:00-11:00:59 is 59 s: none.
    path = _parquet(
        tmp_path,
        [{"started_at": _at("2026-10-05T10:00:30"), "ended_at": _at("2026-10-05T10:03:00"), "service": "api",
          "maintenance": False},
         {"started_at": _at("2026-10-05T11:00:00"), "ended_at": _at("2026-10-05T11:00:59"), "service": "api",
          "maintenance": False}],
    )  # fmt: skip
    # (44,640 - 2) / 44,640 x 100 = 99.995519... -> 99.995520 (October 2026 in UTC: 31 x 1,440 minutes).
    assert _values(path, "monthly_uptime_partial_minutes_dropped")[OCT] == D("99.995520")


def test_an_ongoing_outage_counts_up_to_now_and_the_row_filter_selects_a_service(tmp_path: Path) -> None:
    path = _parquet(
        tmp_path,
        [{"started_at": _at("2026-11-29T11:00"), "ended_at": None, "service": "api", "maintenance": False},
         {"started_at": _at("2026-11-02T00:00"), "ended_at": _at("2026-11-03T00:00"), "service": "web",
          "maintenance": False}],
    )  # fmt: skip
    # api only: 11:00 to now (12:00) = 60 min of November's 43,200: 43,140 / 43,200 x 100 = 99.861111.
    values = _values(path, "monthly_uptime", row_filter="service = 'api'", now="2026-11-29T12:00")
    assert values[NOV] == D("99.861111")


def test_maintenance_covering_the_whole_period_leaves_no_value(tmp_path: Path) -> None:
    path = _parquet(
        tmp_path,
        [{"started_at": _at("2026-10-01T00:00"), "ended_at": _at("2026-11-01T00:00"), "service": "api",
          "maintenance": True}],
    )  # fmt: skip
    values = _values(path, "monthly_uptime_excl_maintenance")
    assert values[OCT] is None
    assert values[NOV] == 100
    # Counted as downtime instead, the same window leaves October at 0%.
    assert _values(path, "monthly_uptime")[OCT] == 0


# --- end to end: an upload of outage records computes the stored values ----------------------

HEADER = [c.name for c in OUTAGES.columns]
RECORDS = [
    # 22:00Z on 31 Oct is 23:00 in Berlin (CET, UTC+1 after 25 Oct); Berlin's October ends at 23:00Z:
    # 60 minutes in October, 120 in November (to 01:00Z).
    ["2026-10-31T22:00:00Z", "2026-11-01T01:00:00Z", "api", "false"],
    ["2026-10-31T22:30:00Z", "2026-10-31T22:45:00Z", "api", "false"],  # inside the first: counted once
    ["2026-10-10T00:00:00Z", "2026-10-10T02:00:00Z", "api", "true"],  # a 120-minute maintenance window
]


@pytest.fixture
def uptime_agreed(world: World):
    actor = world.client_manager
    draft = kpi_services.version_draft_start(actor=actor, engagement=world.engagement)
    for code in ("monthly_uptime", "monthly_uptime_excl_maintenance"):
        kpi_services.version_kpi_add(
            actor=actor,
            version=draft,
            objective_ids=[world.objective.pk],
            catalogue_code=code,
            target=D("99.9"),
            amber=D("99.5"),
            source="dataset",
        )
    proposed = kpi_negotiation.version_propose(actor=actor, version=draft, effective_from=date(2026, 1, 1))
    kpi_negotiation.version_sign(actor=world.client_manager, version=proposed)
    kpi_negotiation.version_sign(actor=world.provider_manager, version=proposed)
    return proposed


@pytest.mark.django_db
def test_an_upload_of_outages_stores_each_months_availability(world: World, uptime_agreed, tmp_path: Path) -> None:
    dataset = services.dataset_declare(
        actor=world.client_manager, engagement=world.engagement, name="outages", standard="outages"
    )
    path = tmp_path / "outages.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(RECORDS)
    batch = services.import_batch_start(
        actor=world.provider_manager, engagement=world.engagement, kind="records", source=path,
        file_name=path.name, dataset=dataset,
    )  # fmt: skip
    assert services.dataset_upload_run(batch_id=batch.pk).status == "done"

    def value(code: str, month: str) -> Decimal | None:
        return Measurement.objects.get(kpi_code=code, period_start=f"{month}-01").value

    # Every outage counts (the window too): October (44,700 - 60 - 120) / 44,700 x 100 = 99.597315.
    assert value("monthly_uptime", "2026-10") == D("99.597315")
    # Window excluded: (44,580 - 60) / 44,580 x 100 = 99.865410, 44,580 = 44,700 - 120.
    assert value("monthly_uptime_excl_maintenance", "2026-10") == D("99.865410")
    # November (30 days, no DST change: 43,200): (43,200 - 120) / 43,200 x 100 = 99.722222 in both.
    assert value("monthly_uptime", "2026-11") == D("99.722222")
    assert value("monthly_uptime_excl_maintenance", "2026-11") == D("99.722222")
    # A month without outages is fully available.
    assert value("monthly_uptime", "2026-09") == 100
