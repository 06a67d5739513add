"""The records behind a computed value (page and API) neutralise text cells that start like a formula (issue 13)."""

from __future__ import annotations

import csv
import io

import pyarrow as pa
import pytest
from django.test import Client
from django.urls import reverse

from pactboard.accounts.services import api_token_create
from pactboard.measurements.models import Measurement
from pactboard.measurements.records_csv import records_csv
from tests.conftest import World, client_for
from tests.measurements.test_datasets import OCTOBER, _write
from tests.measurements.test_views import _contacts, _upload_contacts

pytestmark = pytest.mark.django_db

# Contact ids as a hostile party would upload them: each would run in a spreadsheet as it stands.
EVIL = ['=HYPERLINK("http://evil.example","x")', "+1+2", "@SUM(1)", "-2+3"]


def _evil_october() -> list[list[str]]:
    rows = [list(r) for r in OCTOBER]
    for row, evil in zip(rows, EVIL, strict=False):  # c1-c4: the four records behind October's FCR
        row[0] = evil
    return rows


def test_records_csv_neutralises_text_and_keeps_numbers():
    table = pa.table(
        {
            "id": ["=1+2", "+x", "-x", "@x", "\tx", "\rx", "a=b", None],
            "n": [-1, 2, 3, 4, 5, 6, 7, 8],
            "amount": [-1.5, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, None],
        }
    )
    rows = list(csv.reader(io.StringIO(records_csv(table).decode(), newline="")))
    assert rows[0] == ["id", "n", "amount"]
    assert [r[0] for r in rows[1:]] == ["'=1+2", "'+x", "'-x", "'@x", "'\tx", "'\rx", "a=b", ""]
    assert [r[1] for r in rows[1:3]] == ["-1", "2"]  # numbers stay numbers
    assert rows[1][2] == "-1.5"


def test_records_page_and_api_neutralise_the_uploaded_text(world: World, agreed, tmp_path):
    _upload_contacts(world, _contacts(world), _write(tmp_path / "oct.csv", _evil_october()))
    fcr = Measurement.objects.get(kpi_code="first_contact_resolution", period_start="2026-10-01")
    page = client_for(world.client_manager).get(reverse("measurements:records", args=[world.engagement.pk, fcr.pk]))
    _, raw = api_token_create(membership=world.client_manager, name="BI")
    api = Client(headers={"Authorization": f"Bearer {raw}"}).get(
        f"/api/engagements/{world.engagement.pk}/measurements/{fcr.pk}/records"
    )
    for response in (page, api):
        assert response.status_code == 200
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert sorted(r["contact_id"] for r in rows) == sorted("'" + e for e in EVIL)
        assert {r["handle_seconds"] for r in rows} == {"300"}  # a number column: unchanged
