"""A request body past the size limit answers 413 with the API's one error body (issue 13, item 3)."""

from __future__ import annotations

import json

import pytest

from tests.api.test_errors import _assert_one_shape
from tests.conftest import World, api_client

pytestmark = pytest.mark.django_db


def test_an_oversized_json_body_answers_413(world: World, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"values": [{"kpi": "x" * 100, "period": "2026-10", "value": "1"}] * 200})
    assert len(body) > 10_000
    response = api_client(world.provider_manager).post(
        f"/api/engagements/{world.engagement.pk}/measurements", body, content_type="application/json"
    )
    payload = _assert_one_shape(response, 413, "too_large")
    assert "10,000 bytes" in payload["message"]


def test_a_body_within_the_limit_is_read(world: World, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = api_client(world.provider_manager).post(
        f"/api/engagements/{world.engagement.pk}/objectives", {"statement": "x"}, content_type="application/json"
    )
    assert response.status_code != 413
