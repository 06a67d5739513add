"""Datasets of raw records: checked whole, stored as content-addressed versions, KPIs computed with provenance."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from pactboard.core.dbguard import guard_install, guard_remove
from pactboard.core.errors import PactboardError
from pactboard.formulas import formula_records
from pactboard.formulas.schema import CONTACTS
from pactboard.measurements import services
from pactboard.measurements.models import DatasetVersion, ImportBatch, Measurement, Revision
from pactboard.measurements.selectors import dataset_parquet_path
from pactboard.measurements.verify import measurements_verify
from tests.conftest import World

pytestmark = pytest.mark.django_db

HEADER = [c.name for c in CONTACTS.columns]


def _contact(i: int, opened: str, *, answered: bool = True, fcr: str = "", csat: str = "") -> list[str]:
    return [
        f"c{i}",
        opened,
        opened if answered else "",
        "",
        "phone",
        fcr,
        "false" if answered else "true",
        csat,
        "",
        "300",
        "4.20",
    ]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


# October 2026 in Europe/Berlin. FCR (catalogue): contacts flagged first_contact_resolved / handled (answered)
# contacts x 100. CSAT (top-two-box): responses scoring 4 or 5 / responses scoring 1-5 x 100.
OCTOBER = [
    _contact(1, "2026-10-01T08:00:00+02:00", fcr="true", csat="5"),
    _contact(2, "2026-10-02T08:00:00+02:00", fcr="true", csat="4"),
    _contact(3, "2026-10-03T08:00:00+02:00", fcr="false", csat="2"),
    _contact(4, "2026-10-04T08:00:00+02:00", fcr="true"),
    _contact(5, "2026-10-05T08:00:00+02:00", answered=False),  # abandoned: outside FCR's denominator
    # 23:30 UTC on 31 Oct is 00:30 on 1 Nov in Berlin (CET, UTC+1 after 25 Oct): a November contact.
    _contact(6, "2026-10-31T23:30:00Z", fcr="false", csat="3"),
]
# Handled October contacts: c1-c4 (4); resolved at first contact: c1, c2, c4 -> FCR = 3/4 x 100 = 75.
# October responses: 5, 4, 2 -> top-two-box 2/3 x 100 = 66.666667 (6 places, half up).
# November: c6 handled, not resolved -> FCR 0; response 3 -> CSAT 0.


def _upload(world: World, dataset, path: Path) -> ImportBatch:
    batch = services.import_batch_start(
        actor=world.provider_manager,
        engagement=world.engagement,
        kind="records",
        source=path,
        file_name=path.name,
        dataset=dataset,
    )
    return services.dataset_upload_run(batch_id=batch.pk)


@pytest.fixture
def contacts(world: World, agreed):
    return services.dataset_declare(
        actor=world.client_manager, engagement=world.engagement, name="contacts", standard="contacts"
    )


def _value(code: str, month: str) -> Decimal:
    return Measurement.objects.get(kpi_code=code, period_start=f"{month}-01").value


def test_upload_computes_kpis_by_formula_with_provenance(world: World, contacts, tmp_path):
    batch = _upload(world, contacts, _write(tmp_path / "oct.csv", OCTOBER))
    assert batch.status == "done", batch.errors
    assert _value("first_contact_resolution", "2026-10") == Decimal("75")
    assert _value("csat", "2026-10") == Decimal("66.666667")
    assert _value("first_contact_resolution", "2026-11") == Decimal("0")
    rev = Revision.objects.get(measurement__kpi_code="first_contact_resolution", measurement__period_start="2026-10-01")
    version = DatasetVersion.objects.get()
    assert (rev.source, rev.dataset_version, rev.formula_fingerprint != "") == ("formula", version, True)
    assert dataset_parquet_path(version).name == f"{version.parquet_sha256}.parquet"
    # The exact records behind the October FCR value: the four handled October contacts.
    records = formula_records(
        formula=__import__("pactboard.formulas", fromlist=["x"]).formula_compile(
            expression=rev.formula, schema=contacts.schema(), row_filter=rev.row_filter or None
        ),
        parquet_paths=[dataset_parquet_path(version)],
        schema=contacts.schema(),
        period_kind="month",
        tz="Europe/Berlin",
        period_start=rev.measurement.period_start,
    )
    assert sorted(records.column("contact_id").to_pylist()) == ["c1", "c2", "c3", "c4"]


def test_bad_row_refuses_the_whole_upload(world: World, contacts, tmp_path):
    rows = [*OCTOBER, _contact(7, "yesterday", fcr="true")]
    batch = _upload(world, contacts, _write(tmp_path / "bad.csv", rows))
    assert batch.status == "failed"
    assert batch.errors[0]["location"] == "row 8, column opened_at"
    assert not DatasetVersion.objects.exists()
    assert not Measurement.objects.exists()


def test_new_upload_replaces_the_days_it_covers_as_a_new_version(world: World, contacts, tmp_path):
    _upload(world, contacts, _write(tmp_path / "oct.csv", OCTOBER))
    # A corrected 3 October: contact c3 was in fact resolved at first contact.
    fix = [_contact(3, "2026-10-03T08:00:00+02:00", fcr="true", csat="2")]
    assert _upload(world, contacts, _write(tmp_path / "fix.csv", fix)).status == "done"
    v1, v2 = DatasetVersion.objects.order_by("number")
    assert (v1.row_count, v2.row_count) == (6, 6)
    assert v1.parquet_sha256 != v2.parquet_sha256
    assert dataset_parquet_path(v1).exists()  # the old version stays as it was
    # FCR October: c1, c2, c3, c4 resolved of 4 handled = 100.
    assert _value("first_contact_resolution", "2026-10") == Decimal("100")
    m = Measurement.objects.get(kpi_code="first_contact_resolution", period_start="2026-10-01")
    assert list(m.revisions.order_by("number").values_list("value", "reason")) == [
        (Decimal("75"), ""),
        (Decimal("100"), "computed from contacts v2"),
    ]


def test_verify_recomputes_formula_values_and_reports_an_altered_one(world: World, contacts, tmp_path):
    _upload(world, contacts, _write(tmp_path / "oct.csv", OCTOBER))
    checked, mismatches = measurements_verify(engagement=world.engagement)
    assert (checked, mismatches) == (4, [])
    guard_remove(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE measurements_revision SET value = 80 WHERE measurement_id IN "
            "(SELECT id FROM measurements_measurement WHERE kpi_code = 'first_contact_resolution'"
            " AND period_start = '2026-10-01')"
        )
        cursor.execute(
            "UPDATE measurements_measurement SET value = 80 WHERE kpi_code = 'first_contact_resolution'"
            " AND period_start = '2026-10-01'"
        )
    guard_install(connection)
    _, mismatches = measurements_verify(engagement=world.engagement)
    assert [(m.kpi_code, m.period, m.stored, m.recomputed) for m in mismatches] == [
        ("first_contact_resolution", "2026-10", Decimal("80"), Decimal("75"))
    ]


def test_dataset_declaration_refusals(world: World, agreed):
    with pytest.raises(PactboardError) as caught:
        services.dataset_declare(
            actor=world.client_manager,
            engagement=world.engagement,
            name="tickets",
            columns=[{"name": "opened at", "type": "timestamp"}, {"name": "n", "type": "money"}],
            time_column="closed",
        )
    # "opened at" holds a blank; money is not a column type; "closed" is not a declared column.
    assert [(d.location, d.code) for d in caught.value.details] == [
        ("columns[0].name", "invalid_column_name"),
        ("columns[1].type", "invalid_choice"),
        ("time_column", "unknown_column"),
    ]
    services.dataset_declare(
        actor=world.client_manager,
        engagement=world.engagement,
        name="tickets",
        columns=[{"name": "at", "type": "timestamp"}],
        time_column="at",
    )
    # The name is taken now, "at" is declared twice, and no columns at all is a missing field.
    for columns, expected in (
        ([{"name": "at", "type": "timestamp"}] * 2, [("columns", "duplicate_column"), ("name", "duplicate_name")]),
        ([], [("columns", "required"), ("time_column", "unknown_column"), ("name", "duplicate_name")]),
    ):
        with pytest.raises(PactboardError) as caught:
            services.dataset_declare(
                actor=world.client_manager,
                engagement=world.engagement,
                name="tickets",
                columns=columns,
                time_column="at",
            )
        assert [(d.location, d.code) for d in caught.value.details] == expected
    with pytest.raises(PactboardError) as caught:
        services.dataset_declare(
            actor=world.client_manager, engagement=world.engagement, name="x", standard="nope", time_column="at"
        )
    assert [(d.location, d.code) for d in caught.value.details] == [("standard", "invalid_choice")]


def test_api_upload_of_records_and_the_records_behind_a_value(world: World, contacts, tmp_path):
    from django.test import Client

    from pactboard.accounts.services import api_token_create

    _, raw = api_token_create(membership=world.provider_manager, name="wfm")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    path = _write(tmp_path / "oct.csv", OCTOBER)
    with path.open("rb") as fh:
        response = api.post(f"/api/engagements/{world.engagement.pk}/datasets/contacts/uploads", {"file": fh})
    assert response.status_code == 202
    batch_id = response.json()["id"]
    assert api.get(f"/api/engagements/{world.engagement.pk}/imports/{batch_id}").json()["status"] == "done"
    m = Measurement.objects.get(kpi_code="first_contact_resolution", period_start="2026-10-01")
    csv_text = api.get(f"/api/engagements/{world.engagement.pk}/measurements/{m.pk}/records").content.decode()
    ids = sorted(line.split(",")[0].strip('"') for line in csv_text.splitlines()[1:])
    assert ids == ["c1", "c2", "c3", "c4"]
    with path.open("rb") as fh:
        missing = api.post(f"/api/engagements/{world.engagement.pk}/datasets/tickets/uploads", {"file": fh})
    assert missing.status_code == 404
    _, other = api_token_create(membership=world.outsider, name="x")
    outsider = Client(headers={"Authorization": f"Bearer {other}"})
    assert outsider.get(f"/api/engagements/{world.engagement.pk}/measurements/{m.pk}/records").status_code == 404
