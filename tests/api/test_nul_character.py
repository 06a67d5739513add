"""Text with the NUL character is refused by the API, as the forms refuse it.

PostgreSQL cannot store it in text: a note or report text with it answered 500 there (found by the fuzzer).
"""

from __future__ import annotations

import json

import pytest

from pactboard.api.main import _nul_locations
from pactboard.engagements.models import Objective
from tests.conftest import World, api_client

pytestmark = pytest.mark.django_db


def test_a_body_with_nul_is_a_422_at_its_field_and_writes_nothing(world: World):
    before = Objective.objects.count()
    # JSON can carry NUL only as the escape \u0000; json.dumps writes it so.
    body = json.dumps({"statement": "Resolve\u0000 more", "target": "75 %"})
    assert "\\u0000" in body
    response = api_client(world.client_manager).post(
        f"/api/engagements/{world.engagement.pk}/objectives", body, content_type="application/json"
    )
    assert response.status_code == 422, response.content
    got = response.json()
    assert got["kind"] == "invalid"
    assert [(d["location"], d["code"]) for d in got["details"]] == [("statement", "nul_character")]
    assert Objective.objects.count() == before


def test_nested_keys_and_items_are_located():
    data = {"values": [{"kpi": "a", "note": "x\x00"}, {"kpi": "b\x00"}], "k\x00": 1}
    assert list(_nul_locations(data)) == ["values[0].note", "values[1].kpi", "k\x00"]


def test_a_query_parameter_with_nul_is_a_422_naming_it(world: World):
    response = api_client(world.client_manager).get("/api/catalogue?q=re%00fund")
    assert response.status_code == 422, response.content
    assert [d["location"] for d in response.json()["details"]] == ["q"]


def test_a_path_with_nul_is_a_404(world: World):
    # On SQLite the lookup simply finds nothing; on PostgreSQL the query itself failed (500).
    response = api_client(world.client_manager).get(
        f"/api/engagements/{world.engagement.pk}/datasets/con%00tacts/versions"
    )
    assert response.status_code == 404
    assert response.json()["kind"] == "not_found"
