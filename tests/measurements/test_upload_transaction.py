"""A dataset upload's slow work (merging files, computing KPIs in DuckDB) runs outside its write transaction.

On SQLite a write transaction locks every tenant's writes (issue 13, item 1), so the upload's
transaction only stores the outcome; an upload of the same dataset that lands meanwhile makes this
one refuse itself rather than overwrite it with a merge that did not include it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from pactboard.measurements.models import DatasetVersion, ImportBatch
from pactboard.measurements.services import datasets as dataset_services
from tests.conftest import World
from tests.measurements.test_datasets import OCTOBER, _write
from tests.measurements.test_views import _contacts, _upload_contacts


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "uploads"
    settings.DATASETS_DIR = tmp_path / "datasets"


@pytest.mark.django_db(transaction=True)
def test_merge_and_compute_run_before_the_write_transaction(world: World, tmp_path: Path, monkeypatch):
    seen: dict[str, bool] = {}
    real_merge, real_plan = dataset_services._merge_versions, dataset_services.dataset_kpis_plan

    def merge(**kwargs):
        seen["merge"] = connection.in_atomic_block
        return real_merge(**kwargs)

    def plan(**kwargs):
        seen["plan"] = connection.in_atomic_block
        return real_plan(**kwargs)

    monkeypatch.setattr(dataset_services, "_merge_versions", merge)
    monkeypatch.setattr(dataset_services, "dataset_kpis_plan", plan)
    batch = _upload_contacts(world, _contacts(world), _write(tmp_path / "oct.csv", OCTOBER))
    assert batch.status == ImportBatch.Status.DONE, batch.message
    assert seen == {"merge": False, "plan": False}


@pytest.mark.django_db(transaction=True)
def test_an_upload_that_lands_meanwhile_is_not_overwritten(world: World, tmp_path: Path, monkeypatch):
    dataset = _contacts(world)
    first = _upload_contacts(world, dataset, _write(tmp_path / "a.csv", OCTOBER))
    assert first.status == ImportBatch.Status.DONE
    real_plan = dataset_services.dataset_kpis_plan
    landed: list[int] = []

    def plan(**kwargs):
        # While this upload is being computed, another one of the same dataset is stored.
        if not landed:
            landed.append(1)
            other = _upload_contacts(world, dataset, _write(tmp_path / "c.csv", OCTOBER[:2]))
            assert other.status == ImportBatch.Status.DONE
        return real_plan(**kwargs)

    monkeypatch.setattr(dataset_services, "dataset_kpis_plan", plan)
    late = _upload_contacts(world, dataset, _write(tmp_path / "b.csv", OCTOBER[:3]))
    assert late.status == ImportBatch.Status.FAILED
    assert "upload this file again" in late.message
    # Versions 1 and 2 (the one that landed meanwhile); the late upload wrote nothing.
    assert list(
        DatasetVersion.objects.filter(dataset=dataset).order_by("number").values_list("number", "upload_name")
    ) == [
        (1, "a.csv"),
        (2, "c.csv"),
    ]
