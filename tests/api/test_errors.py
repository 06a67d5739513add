"""One error body for every API error: ``{"message", "kind", "details": [{"message", "location", "code"}]}``.

Whatever raised it (ninja/pydantic validation, a PactboardError, a 404, 405, failed auth), a client
reads one shape; lists are capped and input is echoed only as a short excerpt.
"""

from __future__ import annotations

import pytest
from django.test import Client

from pactboard.core.errors import MAX_DETAILS, ErrorDetail, error_body, text_excerpt
from tests.conftest import World, api_client
from tests.kpis.test_api import _kpi_payload
from tests.kpis.test_views import draft_with

pytestmark = pytest.mark.django_db

BIG = "9" * 309  # a 309-digit number, past any float


def _assert_one_shape(response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"message", "kind", "details"}, body
    assert body["kind"] == kind
    assert isinstance(body["message"], str)
    assert body["message"]
    for detail in body["details"]:
        assert set(detail) == {"message", "location", "code"}, detail
    return body


def test_every_kind_of_api_error_has_the_one_body(world: World):
    api = api_client(world.client_manager)
    e = world.engagement.pk
    cases = [
        (Client().get("/api/engagements/"), 401, "unauthorized"),
        (Client(headers={"Authorization": "Bearer pb_wrong"}).get("/api/engagements/"), 401, "unauthorized"),
        (api.get(f"/api/engagements/{world.other_engagement.pk}"), 404, "not_found"),
        (api.get("/api/nowhere"), 404, "not_found"),
        (api.delete("/api/engagements/"), 405, "method_not_allowed"),
        (api.get("/api/engagements/abc"), 422, "invalid"),
        (api.post(f"/api/engagements/{e}/objectives", {"deadline": "x"}, content_type="application/json"), 422,
         "invalid"),
        (api.post(f"/api/engagements/{e}/objectives", "{not json", content_type="application/json"), 400,
         "bad_request"),
        (api_client(world.provider_manager).post(f"/api/engagements/{e}/objectives", {"statement": "x"},
                                           content_type="application/json"), 403, "forbidden"),
    ]  # fmt: skip
    for response, status, kind in cases:
        _assert_one_shape(response, status, kind)


def test_validation_errors_are_located_without_the_input(world: World):
    response = api_client(world.client_manager).post(
        f"/api/engagements/{world.engagement.pk}/objectives",
        {"statement": ["x"] * 50, "deadline": BIG},
        content_type="application/json",
    )
    body = _assert_one_shape(response, 422, "invalid")
    assert {d["location"] for d in body["details"]} == {"statement", "deadline"}
    assert BIG[:30] not in response.text


def test_a_domain_error_echoes_a_309_digit_number_only_as_an_excerpt(world: World):
    draft = draft_with(world, 0)
    response = api_client(world.client_manager).post(
        f"/api/versions/{draft.pk}/kpis", _kpi_payload(world, target=BIG), content_type="application/json"
    )
    body = _assert_one_shape(response, 422, "invalid")
    assert {d["location"] for d in body["details"]} >= {"target"}
    assert "9" * 30 not in response.text
    # The excerpt still shows which value it was.
    assert any(d["message"].startswith("9" * 20 + "… is out of range") for d in body["details"]), body


def test_long_lists_are_capped_with_a_count_of_the_rest(world: World):
    # 300 objective ids that are not numbers: 300 validation errors, of which MAX_DETAILS are shown.
    draft = draft_with(world, 0)
    response = api_client(world.client_manager).post(
        f"/api/versions/{draft.pk}/kpis",
        _kpi_payload(world, objective_ids=["x"] * 300),
        content_type="application/json",
    )
    body = _assert_one_shape(response, 422, "invalid")
    assert len(body["details"]) == MAX_DETAILS + 1
    assert body["details"][-1]["message"] == f"and {300 - MAX_DETAILS} more problems"


def test_text_excerpt_cuts_long_runs_and_long_texts():
    assert text_excerpt("target 12345") == "target 12345"
    assert text_excerpt("value " + BIG + " is too high") == "value " + "9" * 20 + "… is too high"
    assert len(text_excerpt("word " * 200)) <= 300
    body = error_body(message="m", kind="invalid", details=[ErrorDetail("x" * 100, "a.b", "c")] * 3)
    assert body["details"][0] == {"message": "x" * 20 + "…", "location": "a.b", "code": "c"}


def test_a_location_is_cut_per_part_so_a_path_stays_whole():
    """``text.engagement.client`` is one unbroken run of 22 characters: cut as a whole it read
    ``text.engagement.clie…``. Each part between dots and brackets is cut on its own, so a long
    key a client sent is still never echoed whole."""
    shown = error_body(message="m", kind="invalid", details=[ErrorDetail("bad", "text.engagement.client")])
    assert shown["details"][0]["location"] == "text.engagement.client"
    deep = "kpis[12].thresholds.amber_upper_bound"
    assert error_body(message="m", kind="invalid", details=[ErrorDetail("x", deep)])["details"][0]["location"] == deep
    sent = "k" * 100
    cut = error_body(message="m", kind="invalid", details=[ErrorDetail("x", f"body.{sent}.value")])
    assert cut["details"][0]["location"] == "body." + "k" * 20 + "….value"
