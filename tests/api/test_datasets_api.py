"""Datasets through the API: list, declare (the page's rules), versions a page at a time; other tenants 404."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pactboard.measurements.models import Dataset
from tests.conftest import World, api_client
from tests.measurements.test_datasets import OCTOBER, _write
from tests.measurements.test_views import _contacts, _upload_contacts

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "uploads"
    settings.DATASETS_DIR = tmp_path / "datasets"


def test_declare_a_standard_dataset_and_list_it(world: World):
    url = f"/api/engagements/{world.engagement.pk}/datasets"
    response = api_client(world.provider_manager).post(
        url, data=json.dumps({"name": "contacts", "standard": "contacts"}), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["versions"] == 0
    listed = api_client(world.client_manager).get(url).json()["items"]
    assert [d["name"] for d in listed] == ["contacts"]
    assert listed[0]["latest"] is None
    assert listed[0]["time_column"] == "opened_at"  # the standard contacts schema (formulas/schema.py)


def test_own_columns_are_checked_by_field(world: World):
    url = f"/api/engagements/{world.engagement.pk}/datasets"
    body = {"name": "tickets", "columns": [{"name": "bad name", "type": "text"}], "time_column": "opened"}
    response = api_client(world.client_manager).post(url, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert any(d["location"] == "columns[0].name" for d in response.json()["details"])
    assert not Dataset.objects.filter(name="tickets").exists()


def test_versions_newest_first_a_page_at_a_time(world: World, tmp_path: Path):
    dataset = _contacts(world)
    _upload_contacts(world, dataset, _write(tmp_path / "a.csv", OCTOBER))
    _upload_contacts(world, dataset, _write(tmp_path / "b.csv", OCTOBER[:3]))
    url = f"/api/engagements/{world.engagement.pk}/datasets/contacts/versions?page_size=1"
    first = api_client(world.client_manager).get(url).json()
    assert (first["count"], first["pages"], [v["number"] for v in first["items"]]) == (2, 2, [2])
    # b.csv holds 1-3 October: it replaces those days, and the records of 4, 5 and 31 October stay
    # (docs/data-in.md), so version 2 has 3 uploaded rows and 6 in all.
    assert (first["items"][0]["upload_rows"], first["items"][0]["row_count"]) == (3, 6)
    second = api_client(world.client_manager).get(url + "&page=2").json()
    assert [v["number"] for v in second["items"]] == [1]
    listed = api_client(world.client_manager).get(f"/api/engagements/{world.engagement.pk}/datasets").json()["items"]
    assert (listed[0]["versions"], listed[0]["latest"]["number"]) == (2, 2)
    assert api_client(world.outsider).get(url).status_code == 404
    assert api_client(world.client_manager).get(url.replace("contacts", "nope")).status_code == 404
