"""Defences of the measurements room against a hostile tenant (issue 13, items 2, 4 and 7).

Numbers the database cannot hold are refused on every path with a message naming the row and the
limit, so the pages keep answering; idempotency keys belong to one engagement and one endpoint; and
an upload through the API is type-checked before anything is stored.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from pactboard.accounts.services import api_token_create
from pactboard.core.errors import PactboardError
from pactboard.core.periods import Period
from pactboard.kpis import negotiation as kpi_negotiation
from pactboard.kpis import services as kpi_services
from pactboard.measurements import services
from pactboard.measurements.limits import VALUE_LIMIT
from pactboard.measurements.models import ImportBatch, Measurement, Revision
from tests.conftest import World, client_for, make_engagement
from tests.measurements.test_datasets import OCTOBER, _contact, _upload, _write
from tests.measurements.test_datasets import contacts as contacts  # the fixture

pytestmark = pytest.mark.django_db


def _api(membership) -> Client:
    _, raw = api_token_create(membership=membership, name="t")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _pages_answer(world: World) -> None:
    pk = world.engagement.pk
    c = client_for(world.client_manager)
    for url in (
        reverse("dashboards:engagement", args=[pk]) + "?period=2026-10",
        reverse("dashboards:kpi", args=[pk, "qa_score"]),
        reverse("measurements:kpi_values", args=[pk, "qa_score"]),
        reverse("measurements:scorecard", args=[pk]) + "?period=2026-10",
        reverse("dashboards:portfolio"),
    ):
        assert c.get(url).status_code == 200, url


# --- numbers the database cannot hold --------------------------------------------------------------


def test_the_value_limit_is_what_the_column_holds_exactly():
    # Measurement.value is DECIMAL(24, 6); on SQLite a number is stored as a double, exact to 15
    # significant digits. 10^15 is the first magnitude that cannot keep its units digit and
    # one decimal there, so the limit sits at 10^15 (docs/measurements.md, "Limits").
    assert Decimal(10) ** 15 == VALUE_LIMIT


@pytest.mark.parametrize("value", ["1e18", "1000000000000000", "-1e15", "1e309"])
def test_a_value_the_database_cannot_hold_is_refused_through_the_api(world: World, agreed, value):
    response = _api(world.provider_manager).post(
        f"/api/engagements/{world.engagement.pk}/measurements",
        {"values": [{"kpi": "escalations", "period": "2026-10", "value": value}]},
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    detail = response.json()["details"][0]
    assert detail["location"] == "values[0]"
    assert "1,000,000,000,000,000" in detail["message"] or "10^15" in detail["message"], detail
    assert not Measurement.objects.exists()
    _pages_answer(world)


def test_the_largest_value_the_column_holds_is_accepted(world: World, agreed):
    # Escalations has no maximum: 999,999,999,999,999 is the largest whole number below 10^15.
    response = _api(world.provider_manager).post(
        f"/api/engagements/{world.engagement.pk}/measurements",
        {"values": [{"kpi": "escalations", "period": "2026-10", "value": "999999999999999"}]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert Measurement.objects.get().value == Decimal("999999999999999")
    _pages_answer(world)


def test_a_value_too_large_is_refused_by_the_form_service(world: World, agreed):
    with pytest.raises(PactboardError) as err:
        services.measurement_record(
            actor=world.provider_manager,
            engagement=world.engagement,
            kpi_code="escalations",
            period=Period.parse("2026-10"),
            value=Decimal("1e18"),
        )
    assert "1,000,000,000,000,000" in str(err.value)
    assert not Measurement.objects.exists()


def test_a_csv_with_a_25_digit_integer_is_refused_naming_the_row(world: World, agreed, tmp_path: Path):
    path = tmp_path / "values.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kpi", "period", "value"])
        w.writerow(["escalations", "2026-09", "4"])
        w.writerow(["escalations", "2026-10", "1" + "0" * 24])
    batch = services.import_batch_start(
        actor=world.provider_manager, engagement=world.engagement, kind="values", source=path, file_name=path.name
    )
    batch = services.values_import_run(batch_id=batch.pk)
    assert batch.status == "failed"
    assert [e["location"] for e in batch.errors] == ["row 3, column value"]
    assert "1,000,000,000,000,000" in batch.errors[0]["message"]
    assert not Measurement.objects.exists()
    _pages_answer(world)


def test_a_record_value_too_large_is_refused_naming_the_row(world: World, contacts, tmp_path: Path):
    huge = _contact(1, "2026-10-01T08:00:00+02:00", fcr="true", csat="5")
    huge[9] = "1e30"  # handle_seconds
    batch = _upload(world, contacts, _write(tmp_path / "huge.csv", [*OCTOBER[1:], huge]))
    assert batch.status == "failed", batch.message
    assert [e["location"] for e in batch.errors] == ["row 7, column handle_seconds"]
    assert "1,000,000,000,000,000" in batch.errors[0]["message"]
    assert not Measurement.objects.exists()


def test_a_computed_value_too_large_to_store_is_a_clear_error(
    world: World, contacts, agreed, tmp_path: Path, django_capture_on_commit_callbacks
):
    draft = kpi_services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    kpi_services.version_kpi_add(
        actor=world.client_manager,
        version=draft,
        objective_ids=[world.objective.pk],
        code="handle_total",
        name="Total handle time",
        category="operational",
        unit="seconds",
        direction="lower",
        period="month",
        target=Decimal("1000"),
        source="dataset",
        dataset="contacts",
        formula="sum(handle_seconds)",
    )
    proposed = kpi_negotiation.version_propose(
        actor=world.client_manager, version=draft, effective_from=date(2026, 12, 1), retroactive=True
    )
    kpi_negotiation.version_sign(actor=world.client_manager, version=proposed)
    with django_capture_on_commit_callbacks(execute=True):
        kpi_negotiation.version_sign(actor=world.provider_manager, version=proposed)
    rows = [_contact(i, f"2026-10-0{i}T08:00:00+02:00", fcr="true", csat="5") for i in range(1, 4)]
    for row in rows:
        row[9] = "900000000000000"  # 9 x 10^14 seconds each: within a record's limit
    # October's total: 3 x 9 x 10^14 = 2.7 x 10^15, past the 10^15 a value may hold.
    batch = _upload(world, contacts, _write(tmp_path / "big.csv", rows))
    assert batch.status == "failed", batch.message
    assert "too large to store" in batch.message
    assert [e["location"] for e in batch.errors] == ["handle_total 2026-10"]
    assert "too large to store" in batch.errors[0]["message"]
    assert not Measurement.objects.exists()
    _pages_answer(world)


# --- idempotency keys ---------------------------------------------------------------------------


def test_an_idempotency_key_belongs_to_one_engagement(world: World, agreed):
    # A second engagement between the same two organisations, with the same KPIs agreed.
    other = make_engagement(world.client_org, world.provider_org, "Acme back office")
    objective = other.objectives.create(key="q", statement="Quality", measure="QA", target="90")
    draft = kpi_services.version_draft_start(actor=world.client_manager, engagement=other)
    kpi_services.version_kpi_add(
        actor=world.client_manager,
        version=draft,
        objective_ids=[objective.pk],
        code="escalations",
        name="Escalations",
        category="operational",
        unit="count",
        direction="lower",
        period="month",
        target=Decimal("10"),
        source="manual",
    )
    proposed = kpi_negotiation.version_propose(
        actor=world.client_manager, version=draft, effective_from=other.start_date
    )
    kpi_negotiation.version_sign(actor=world.client_manager, version=proposed)
    kpi_negotiation.version_sign(actor=world.provider_manager, version=proposed)

    api = _api(world.provider_manager)
    body = {"values": [{"kpi": "escalations", "period": "2026-10", "value": "7"}]}
    headers = {"Idempotency-Key": "batch-2026-10"}
    first = api.post(
        f"/api/engagements/{world.engagement.pk}/measurements", body, content_type="application/json", headers=headers
    )
    assert first.status_code == 201
    second_response = api.post(
        f"/api/engagements/{other.pk}/measurements", body, content_type="application/json", headers=headers
    )
    assert second_response.status_code == 201, second_response.content
    assert second_response.json() == {"created": 1, "revised": 0, "unchanged": 0}
    assert Measurement.objects.filter(engagement=other, kpi_code="escalations").get().value == Decimal("7")
    assert Measurement.objects.filter(engagement=world.engagement).count() == 1
    # The same key again on each engagement is a retry there: answered, nothing written twice.
    again = api.post(
        f"/api/engagements/{other.pk}/measurements", body, content_type="application/json", headers=headers
    )
    assert (again.status_code, again.json()) == (201, second_response.json())
    assert Revision.objects.count() == 2


# --- uploads through the API ----------------------------------------------------------------------


def _post_file(world: World, url: str, name: str, content: bytes, content_type: str = "text/csv"):
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    return _api(world.provider_manager).post(url, {"file": upload})


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("values.csv", b"", "empty_file"),
        ("values.exe", b"kpi,period,value\nescalations,2026-10,3\n", "file_type"),
        ("values.xlsx", b"kpi,period,value\nescalations,2026-10,3\n", "file_content"),
        ("values.csv", b"PK\x03\x04" + b"\x00" * 64, "file_content"),
        ("values.csv", b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "file_content"),
    ],
)
def test_a_value_file_of_the_wrong_type_is_refused_before_it_is_stored(world: World, agreed, name, content, code):
    before = ImportBatch.objects.count()
    response = _post_file(world, f"/api/engagements/{world.engagement.pk}/imports", name, content)
    assert response.status_code == 422, response.content
    assert response.json()["details"][0]["code"] == code
    assert ImportBatch.objects.count() == before


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("contacts.csv", b"", "empty_file"),
        ("contacts.txt", b"contact_id,opened_at\n", "file_type"),
        ("contacts.parquet", b"contact_id,opened_at\nc1,2026-10-01\n", "file_content"),
        ("contacts.jsonl", b"PAR1" + b"\x00" * 64, "file_content"),
    ],
)
def test_a_records_file_of_the_wrong_type_is_refused_before_it_is_stored(world: World, contacts, name, content, code):
    before = ImportBatch.objects.count()
    response = _post_file(world, f"/api/engagements/{world.engagement.pk}/datasets/contacts/uploads", name, content)
    assert response.status_code == 422, response.content
    assert response.json()["details"][0]["code"] == code
    assert ImportBatch.objects.count() == before
