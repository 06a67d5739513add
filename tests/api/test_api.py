"""REST API: token auth, tenancy (404 for what the actor may not see), domain errors, OpenAPI."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from pactboard.engagements.models import Objective
from tests.conftest import World, api_client

pytestmark = pytest.mark.django_db


def test_requires_a_valid_token(world: World):
    assert Client().get("/api/engagements/").status_code == 401
    assert Client(headers={"Authorization": "Bearer pb_wrong"}).get("/api/engagements/").status_code == 401


def test_lists_only_visible_engagements(world: World):
    names = [e["name"] for e in api_client(world.provider_manager).get("/api/engagements/").json()["items"]]
    assert names == ["Acme support"]
    body = api_client(world.client_manager).get(f"/api/engagements/{world.engagement.pk}").json()
    assert body["monthly_fee"] == "100000.00"
    assert body["provider"]["name"] == "Helpline BPO"


@pytest.mark.parametrize("path", ["/api/engagements/{id}", "/api/engagements/{id}/objectives"])
def test_outsider_gets_404(world: World, path):
    response = api_client(world.outsider).get(path.format(id=world.engagement.pk))
    assert response.status_code == 404


def test_outsider_cannot_create_objective(world: World):
    response = api_client(world.outsider).post(
        f"/api/engagements/{world.engagement.pk}/objectives", {"statement": "hijack"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert not Objective.objects.filter(statement="hijack").exists()


def test_objectives_carry_their_smart_gaps(world: World):
    response = api_client(world.client_manager).post(
        f"/api/engagements/{world.engagement.pk}/objectives",
        {"statement": "Lower AHT", "measure": "AHT", "target": "300 s", "deadline": "2026-12-31"},
        content_type="application/json",
    )
    assert response.status_code == 201
    fields = [g["field"] for g in response.json()["smart_gaps"]]
    assert fields == ["owner", "relevance", "kpis"]


def test_provider_gets_403_with_a_message_when_writing_objectives(world: World):
    response = api_client(world.provider_manager).post(
        f"/api/engagements/{world.engagement.pk}/objectives", {"statement": "x"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "client" in response.json()["message"]


def test_openapi_document_is_published(world: World):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    assert "/api/engagements/" in response.json()["paths"]


def test_the_interactive_docs_load_everything_from_the_app(world: World):
    # Offline machines: every script, stylesheet and icon of /api/docs must come from this app, not a CDN.
    page = Client().get("/api/docs")
    assert page.status_code == 200
    assets = re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"', page.text)
    assert any(a.endswith(".js") for a in assets), assets
    assert any(a.endswith(".css") for a in assets), assets
    for url in assets:
        assert url.startswith("/"), f"{url} is not served by the app"
        assert not url.startswith("//"), f"{url} is not served by the app"
        response = Client().get(url)
        assert response.status_code == 200, url
