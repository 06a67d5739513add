"""Incremental recompute: a new version recomputes only the periods its upload touches, with full-recompute values."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pactboard.formulas import formula_compile, formula_compute
from pactboard.formulas.schema import CONTACTS
from pactboard.measurements import incremental, services
from pactboard.measurements.models import Dataset, DatasetVersion, Measurement
from pactboard.measurements.selectors import dataset_parquet_path, kpi_rules
from tests.conftest import World

pytestmark = pytest.mark.django_db

HEADER = [c.name for c in CONTACTS.columns]
FIRST_DAY = date(2026, 9, 1)

# One record: (day offset from 1 Sep 2026, UTC hour, resolved at first contact, CSAT score). Every
# contact is answered and answers the survey, so every month with records has both values (a
# month never loses all its records either: an upload replaces only days it brings records for).
record = st.tuples(
    st.integers(min_value=0, max_value=120),
    st.integers(min_value=0, max_value=23),
    st.booleans(),
    st.integers(min_value=1, max_value=5),
)
uploads = st.lists(st.lists(record, min_size=1, max_size=8), min_size=1, max_size=4)


def _write(path: Path, records: list[tuple[int, int, bool, int]], start: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for n, (offset, hour, fcr, score) in enumerate(records):
            opened = datetime(2026, 9, 1, hour) + timedelta(days=offset)
            stamp = opened.strftime("%Y-%m-%dT%H:%M:%SZ")
            w.writerow(
                [f"c{start + n}", stamp, stamp, "", "phone", str(fcr).lower(), "false", score, "", "300", "4.20"]
            )
    return path


def _upload(world: World, dataset: Dataset, path: Path) -> None:
    batch = services.import_batch_start(
        actor=world.provider_manager,
        engagement=world.engagement,
        kind="records",
        source=path,
        file_name=path.name,
        dataset=dataset,
    )
    assert services.dataset_upload_run(batch_id=batch.pk).status == "done"


def _full(world: World, dataset: Dataset) -> dict[tuple[str, date], Any]:
    """Every value a full recompute of the latest version gives, straight from the formula engine."""
    version = DatasetVersion.objects.filter(dataset=dataset).order_by("-number").first()
    assert version is not None
    schema = dataset.schema()
    out = {}
    for rule in kpi_rules(engagement=world.engagement).values():
        if rule.source != "dataset":
            continue
        values = formula_compute(
            formulas={rule.code: formula_compile(expression=rule.formula, schema=schema, row_filter=rule.row_filter)},
            parquet_paths=[dataset_parquet_path(version)],
            schema=schema,
            period_kind=rule.period_kind,  # type: ignore[arg-type]
            tz=world.engagement.time_zone,
        )
        # Periods that have not started take no value, however it arrives (docs/measurements.md).
        today = timezone.localdate(timezone.now(), ZoneInfo(world.engagement.time_zone))
        out |= {(rule.code, start): value for start, value in values[rule.code].items() if start <= today}
    return out


def _stored(world: World) -> dict[tuple[str, date], Any]:
    rows = Measurement.objects.filter(engagement=world.engagement, kpi_code__in=["first_contact_resolution", "csat"])
    return {(m.kpi_code, m.period_start): m.value for m in rows}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=uploads)
def test_incremental_values_equal_a_full_recompute(world: World, agreed, tmp_path: Path, sequence) -> None:
    with transaction.atomic():
        dataset = services.dataset_declare(
            actor=world.client_manager, engagement=world.engagement, name="contacts", standard="contacts"
        )
        for i, records in enumerate(sequence):
            _upload(world, dataset, _write(tmp_path / f"u{i}.csv", records, start=100 * i))
            assert _stored(world) == _full(world, dataset)
        transaction.set_rollback(True)  # the next example starts from the same empty engagement


def test_a_new_version_computes_only_the_periods_its_upload_touches(
    world: World, agreed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = services.dataset_declare(
        actor=world.client_manager, engagement=world.engagement, name="contacts", standard="contacts"
    )
    calls: list[tuple[frozenset[str], date | None, date | None]] = []
    real = incremental.formula_compute

    def spy(**kwargs: Any) -> Any:
        calls.append((frozenset(kwargs["formulas"]), kwargs.get("period_from"), kwargs.get("period_to")))
        return real(**kwargs)

    monkeypatch.setattr(incremental, "formula_compute", spy)
    # September and October, then a new 15 October (local day): only October is computed again.
    _upload(world, dataset, _write(tmp_path / "a.csv", [(3, 10, True, 5), (40, 10, False, 2)], start=0))
    _upload(world, dataset, _write(tmp_path / "b.csv", [(44, 10, True, 4)], start=10))
    both = frozenset({"first_contact_resolution", "csat"})
    assert calls == [(both, None, None), (both, date(2026, 10, 1), date(2026, 10, 1))]
    # October after the new 15 Oct: the contact of 11 Oct (not resolved, CSAT 2) and the new one
    # (resolved, CSAT 4): FCR 1/2 x 100 = 50, CSAT 1/2 x 100 = 50; September untouched: 100 and 100.
    assert _stored(world) == {
        ("first_contact_resolution", date(2026, 9, 1)): 100,
        ("csat", date(2026, 9, 1)): 100,
        ("first_contact_resolution", date(2026, 10, 1)): 50,
        ("csat", date(2026, 10, 1)): 50,
    }
