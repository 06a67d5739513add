"""Every import and upload ends: refused or failed with a message the user can act on, never "running" forever.

Covers the guard around the tasks (any exception fails the batch and removes its work folder),
recovery of batches whose worker died, capped error lists (database, API, page) and the upload
size limit enforced while the upload streams in (docs/data-in.md, "When an import fails").
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pactboard.accounts.services import api_token_create
from pactboard.formulas.schema import CONTACTS
from pactboard.measurements import batches, limits, services, tasks
from pactboard.measurements.models import Dataset, DatasetVersion, ImportBatch, Measurement
from pactboard.measurements.selectors import datasets_dir
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db


def receive(world: World, path: Path, kind: str = "values", dataset: Dataset | None = None) -> ImportBatch:
    return services.import_batch_start(
        actor=world.provider_manager,
        engagement=world.engagement,
        kind=kind,
        source=path,
        file_name=path.name,
        dataset=dataset,
    )


def run_values(world: World, path: Path) -> ImportBatch:
    batch = receive(world, path)
    tasks.values_import_task.enqueue(batch.pk)  # the suite's backend runs the task at once
    batch.refresh_from_db()
    return batch


def run_upload(world: World, dataset: Dataset, path: Path) -> ImportBatch:
    batch = receive(world, path, "records", dataset)
    tasks.dataset_upload_task.enqueue(batch.pk)
    batch.refresh_from_db()
    return batch


@pytest.fixture
def contacts(world: World, agreed) -> Dataset:
    return services.dataset_declare(
        actor=world.client_manager, engagement=world.engagement, name="contacts", standard="contacts"
    )


def work_folders() -> list[Path]:
    return sorted(datasets_dir().rglob(".ingest-*"))


# --- files that used to leave the batch running --------------------------------------------


def test_a_single_line_csv_of_20_mb_fails_the_value_import(world: World, agreed, tmp_path: Path) -> None:
    path = tmp_path / "one-line.csv"
    path.write_text("kpi,period,value," + "x" * 20_000_000)
    batch = run_values(world, path)
    assert batch.status == ImportBatch.Status.FAILED
    assert "row 1 is longer than" in batch.message


def test_a_single_line_csv_of_20_mb_fails_the_dataset_upload(world: World, contacts, tmp_path: Path) -> None:
    path = tmp_path / "one-line.csv"
    path.write_text(",".join(CONTACTS.column_names) + "," + "x" * 20_000_000)
    batch = run_upload(world, contacts, path)
    assert batch.status == ImportBatch.Status.FAILED
    assert "row 1 is longer than" in batch.message
    assert work_folders() == []


def test_a_jsonl_file_of_blank_lines_is_refused_and_makes_no_version(world: World, contacts, tmp_path: Path) -> None:
    path = tmp_path / "blank.jsonl"
    path.write_text("\n\n")
    batch = run_upload(world, contacts, path)
    assert batch.status == ImportBatch.Status.FAILED
    assert "no records" in batch.message
    assert not DatasetVersion.objects.exists()


def test_an_unexpected_error_fails_the_batch_with_an_actionable_message(
    world: World, agreed, tmp_path: Path, monkeypatch
) -> None:
    def broken(**kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services.imports, "value_file_parse", broken)
    path = tmp_path / "ok.csv"
    path.write_text("kpi,period,value\nqa_score,2026-03,91\n")
    batch = run_values(world, path)
    assert batch.status == ImportBatch.Status.FAILED
    assert "Nothing was written" in batch.message
    assert "upload the file again" in batch.message
    assert "RuntimeError" in batch.message  # names what went wrong for the one who reports it
    assert not Measurement.objects.exists()


def test_an_unexpected_error_during_an_upload_removes_the_work_folder(
    world: World, contacts, tmp_path: Path, monkeypatch
) -> None:
    path = tmp_path / "oct.csv"
    path.write_text(",".join(CONTACTS.column_names) + "\nc1,2026-10-01T10:00:00Z,,,phone,,false,,,,\n")
    batch = receive(world, path, "records", contacts)

    def crash(**kwargs: object) -> None:
        # What a worker leaves behind when the ingest dies before its own clean-up runs.
        folder = datasets_dir() / "staging" / f"{batches.work_prefix(batch.pk)}abc"
        (folder / "spill").mkdir(parents=True)
        raise MemoryError

    monkeypatch.setattr(services.datasets.ingest, "dataset_file_ingest", crash)
    tasks.dataset_upload_task.enqueue(batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert "MemoryError" in batch.message
    assert work_folders() == []


@pytest.mark.parametrize("through", ["task", "service"])
def test_a_stored_upload_leaves_nothing_in_the_staging_folder(
    world: World, contacts, tmp_path: Path, through: str
) -> None:
    """The checked Parquet file staged for the merge used to stay in ``datasets/staging`` for good: one
    file per upload, on every host. ``service`` is how the demo's history calls it, without the task's guard."""
    path = tmp_path / "oct.csv"
    path.write_text(",".join(CONTACTS.column_names) + "\nc1,2026-10-01T10:00:00Z,,,phone,,false,,,,\n")
    batch = receive(world, path, "records", contacts)
    if through == "task":
        tasks.dataset_upload_task.enqueue(batch.pk)
    else:
        services.dataset_upload_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DONE, batch.message
    staging = datasets_dir() / "staging"
    assert sorted(p.relative_to(staging) for p in staging.rglob("*")) == []


# --- batches whose worker died --------------------------------------------------------------


def _running(world: World, tmp_path: Path, *, idle: timedelta, name: str) -> ImportBatch:
    path = tmp_path / name
    path.write_text("kpi,period,value\nqa_score,2026-03,91\n")
    batch = receive(world, path)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING, updated_at=timezone.now() - idle)
    (datasets_dir() / "staging" / f"{batches.work_prefix(batch.pk)}x").mkdir(parents=True)
    return batch


def test_a_running_batch_without_a_heartbeat_is_failed_and_its_folder_removed(
    world: World, agreed, tmp_path: Path, settings
) -> None:
    settings.PACTBOARD_IMPORT_STALE_SECONDS = 60
    dead = _running(world, tmp_path, idle=timedelta(seconds=61), name="dead.csv")
    alive = _running(world, tmp_path, idle=timedelta(seconds=5), name="alive.csv")
    orphan = datasets_dir() / "staging" / ".ingest-orphan"
    orphan.mkdir()

    assert batches.import_batches_recover() == 1

    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == ImportBatch.Status.FAILED
    assert "stopped" in dead.message
    assert "upload the file again" in dead.message
    assert alive.status == ImportBatch.Status.RUNNING
    assert work_folders() == [datasets_dir() / "staging" / f"{batches.work_prefix(alive.pk)}x"]


def test_the_next_task_a_new_worker_runs_fails_the_dead_batch(world: World, agreed, tmp_path: Path, settings) -> None:
    settings.PACTBOARD_IMPORT_STALE_SECONDS = 60
    dead = _running(world, tmp_path, idle=timedelta(minutes=10), name="dead.csv")
    path = tmp_path / "next.csv"
    path.write_text("kpi,period,value\nqa_score,2026-03,91\n")
    assert run_values(world, path).status == ImportBatch.Status.DONE
    dead.refresh_from_db()
    assert dead.status == ImportBatch.Status.FAILED


def test_reading_a_dead_batch_page_or_api_shows_it_failed(world: World, agreed, tmp_path: Path, settings) -> None:
    settings.PACTBOARD_IMPORT_STALE_SECONDS = 60
    page_batch = _running(world, tmp_path, idle=timedelta(minutes=10), name="a.csv")
    api_batch = _running(world, tmp_path, idle=timedelta(minutes=10), name="b.csv")
    c = client_for(world.provider_manager)
    page = c.get(reverse("measurements:import_batch", args=[world.engagement.pk, page_batch.pk]))
    assert "upload the file again" in page.content.decode()
    _, raw = api_token_create(membership=world.provider_manager, name="t")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    answer = api.get(f"/api/engagements/{world.engagement.pk}/imports/{api_batch.pk}").json()
    assert answer["status"] == "failed"


def test_the_heartbeat_keeps_a_running_batch_fresh(world: World, agreed, tmp_path: Path) -> None:
    batch = _running(world, tmp_path, idle=timedelta(hours=1), name="a.csv")
    batches.import_batch_heartbeat(batch_id=batch.pk)
    batch.refresh_from_db()
    assert timezone.now() - batch.updated_at < timedelta(seconds=5)


# --- capped error lists ---------------------------------------------------------------------


def test_a_file_with_thousands_of_bad_rows_stores_a_capped_list(world: World, agreed, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("kpi,period,value\n" + "qa_score,2026-03,n/a\n" * 5_000)
    batch = run_values(world, path)
    assert batch.status == ImportBatch.Status.FAILED
    # Row 2 has one problem ('n/a' is not a number); rows 3..5001 have two each (not a number, and the same
    # KPI and period as row 2): 1 + 4,999 x 2 = 9,999. The parser lists its first 100 and counts 9,899 more.
    assert len(batch.errors) == limits.ERRORS_SHOWN + 1 <= limits.ERRORS_STORED + 1
    assert batch.errors[-1]["message"] == "... and 9899 more errors"
    assert "9999 problem(s)" in batch.message


def test_an_old_batch_with_a_huge_error_list_is_capped_in_the_api_and_the_page(world: World, agreed, tmp_path) -> None:
    path = tmp_path / "old.csv"
    path.write_text("kpi,period,value\n")
    batch = receive(world, path)
    errors = [{"message": f"problem {i}", "location": f"row {i + 2}", "code": None} for i in range(1_000)]
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.FAILED, message="refused", errors=errors)
    _, raw = api_token_create(membership=world.provider_manager, name="t")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    answer = api.get(f"/api/engagements/{world.engagement.pk}/imports/{batch.pk}").json()
    # 1,000 stored: ERRORS_STORED shown, then one line for the other 1,000 - ERRORS_STORED.
    assert len(answer["errors"]) == limits.ERRORS_STORED + 1
    assert answer["errors"][-1]["message"] == f"... and {1_000 - limits.ERRORS_STORED} more errors"
    page = (
        client_for(world.provider_manager)
        .get(reverse("measurements:import_batch", args=[world.engagement.pk, batch.pk]))
        .content.decode()
    )
    assert f"problem {limits.ERRORS_STORED - 1}<" in page
    assert f"problem {limits.ERRORS_STORED}<" not in page
    assert f"... and {1_000 - limits.ERRORS_STORED} more errors" in page


# --- the upload size limit -------------------------------------------------------------------


def test_an_upload_over_the_limit_is_refused_with_413_through_the_page(world: World, agreed, settings) -> None:
    settings.PACTBOARD_UPLOAD_MAX_BYTES = 1_000
    c = client_for(world.provider_manager)
    upload = SimpleUploadedFile("big.csv", b"kpi,period,value\n" + b"qa_score,2026-03,91\n" * 100)
    response = c.post(reverse("measurements:import_values", args=[world.engagement.pk]), {"file": upload})
    assert response.status_code == 413
    assert "larger than the 1,000 bytes" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_an_upload_over_the_limit_is_refused_with_413_through_the_api(world: World, contacts, settings) -> None:
    settings.PACTBOARD_UPLOAD_MAX_BYTES = 1_000
    _, raw = api_token_create(membership=world.provider_manager, name="t")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    upload = SimpleUploadedFile("big.csv", b"x" * 5_000)
    response = api.post(f"/api/engagements/{world.engagement.pk}/datasets/contacts/uploads", {"file": upload})
    assert response.status_code == 413, response.content
    assert "larger than the 1,000 bytes" in json.loads(response.content)["message"]
    assert not ImportBatch.objects.exists()


def test_the_limit_is_enforced_while_streaming_not_after(settings) -> None:
    """The handler stops passing chunks on once the limit is passed: nothing beyond it reaches the disk."""
    from pactboard.core.uploads import UploadSizeLimitHandler

    settings.PACTBOARD_UPLOAD_MAX_BYTES = 100
    handler = UploadSizeLimitHandler()
    handler.new_file("file", "big.csv", "text/csv", None)
    assert handler.receive_data_chunk(b"a" * 60, 0) == b"a" * 60
    assert handler.receive_data_chunk(b"b" * 60, 60) is None  # 120 > 100: dropped, never written
    assert handler.receive_data_chunk(b"c" * 60, 120) is None
    refused = handler.file_complete(180)
    assert refused is not None
    assert refused.size == 0
    assert refused.too_large_limit == 100


@pytest.mark.django_db(transaction=True)
def test_the_guard_beats_from_another_thread_while_the_task_runs(
    world: World, agreed, tmp_path: Path, settings
) -> None:
    # One beat every max(1 s, stale / 10): with stale = 1 s, a task of 2.5 s is touched at least twice.
    settings.PACTBOARD_IMPORT_STALE_SECONDS = 1
    batch = _running(world, tmp_path, idle=timedelta(0), name="slow.csv")
    with batches.import_batch_guard(batch_id=batch.pk):
        # As if the task had run for an hour without a progress report; only the heartbeat can move this.
        an_hour_ago = timezone.now() - timedelta(hours=1)
        ImportBatch.objects.filter(pk=batch.pk).update(updated_at=an_hour_ago)
        time.sleep(2.5)
    batch.refresh_from_db()
    assert batch.updated_at > an_hour_ago + timedelta(minutes=59)
    assert batch.status == ImportBatch.Status.RUNNING  # the guard ends a batch only when its body fails


def test_the_command_line_import_goes_through_the_same_guard(world: World, agreed, tmp_path: Path, monkeypatch) -> None:
    def broken(**kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services.imports, "value_file_parse", broken)
    path = tmp_path / "ok.csv"
    path.write_text("kpi,period,value\nqa_score,2026-03,91\n")
    with pytest.raises(CommandError, match="upload the file again"):
        call_command("measurements", "import", "Acme support", str(path), "--as", "pedro@helpline.example")
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED


def test_a_failure_without_listed_errors_shows_its_message_not_zero_problems(world: World, agreed, tmp_path) -> None:
    path = tmp_path / "crashed.csv"
    path.write_text("kpi,period,value\n")
    batch = receive(world, path)
    batches.import_batch_fail(batch_id=batch.pk, message="The worker stopped. Please upload the file again.")
    page = client_for(world.provider_manager).get(
        reverse("measurements:import_batch", args=[world.engagement.pk, batch.pk])
    )
    text = page.content.decode()
    assert "The worker stopped. Please upload the file again." in text
    assert "the 0 problems" not in text
