"""`GET /api/portfolio`: the portfolio page's rows as JSON, from the same selector, paged.

The clock stands at 2026-11-15 12:00 UTC, so every engagement is judged at its latest closed
month, 2026-10, which is period index 33 of the values ``build_engagement`` pushes from 2024-01
(tests/dashboards/conftest.py: ``value_for(i, j) = 70 + (7j + 3i) mod 25``, mirrored to 100 - v for
the odd, lower-is-better KPIs; KPI weights 1 + i mod 3). Worked by hand for two KPIs:

    month    j   kpi_00 (higher; amber 75, target 80, stretch 90)  kpi_01 (lower; 25/20/15; weight 2)  status score
    2026-07  30  70 + 210 mod 25 = 80 -> met (100)                 100 - (70 + 213 mod 25) = 17 -> met    100
    2026-08  31  70 + 217 mod 25 = 87 -> met                       100 - 90 = 10 -> exceeded (100)        100
    2026-09  32  70 + 224 mod 25 = 94 -> exceeded                  100 - 72 = 28 -> missed (0)            100 / 3 = 33.3
    2026-10  33  70 + 231 mod 25 = 76 -> at risk (50)              100 - 79 = 21 -> at risk (50)          50.0

Trend (docs/scoring.md): last 50.0 against the mean of the three before, (100 + 100 + 33.3) / 3 = 77.8:
down, by far more than 1 % of the target 100; for a score higher is better, so not better.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from pactboard.accounts.models import ApiToken
from pactboard.accounts.services import api_token_create
from pactboard.dashboards.pagecache import page_cache_clear
from pactboard.dashboards.selectors import agreed_cache_clear
from tests.conftest import World

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


def _api(membership) -> Client:  # type: ignore[no-untyped-def]
    _, raw = api_token_create(membership=membership, name="test", scope=ApiToken.Scope.READ)
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def clock():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield


def test_each_engagement_is_a_row_as_the_page_shows_it(world: World, build_engagement, clock) -> None:  # type: ignore[no-untyped-def]
    big = build_engagement(2, 34, "Big support")
    body = _api(world.client_manager).get("/api/portfolio").json()
    assert (body["count"], body["page"], body["pages"]) == (2, 1, 1)
    # Sorted by name, as the page; the world's own engagement has no agreed KPIs nor values.
    acme, row = body["items"]
    assert acme == {
        "engagement_id": world.engagement.pk,
        "engagement": "Acme support",
        "engagement_status": world.engagement.status,
        "counterparty": "Helpline BPO",
        "period_kind": None,
        "period_start": None,
        "period_end": None,
        "period_label": None,
        "kpis": 0,
        "status_score": None,
        "score": None,
        "coverage": None,
        "met": 0,
        "at_risk": 0,
        "missed": 0,
        "no_data": 0,
        "trend": None,
        "trend_better": None,
        "last_data_at": None,
    }
    assert (row["engagement_id"], row["engagement"], row["counterparty"]) == (big.pk, "Big support", "Helpline BPO")
    assert (row["period_kind"], row["period_label"], row["period_start"], row["period_end"]) == (
        "month",
        "2026-10",
        "2026-10-01",
        "2026-10-31",
    )
    assert (row["kpis"], row["met"], row["at_risk"], row["missed"], row["no_data"]) == (2, 0, 2, 0, 0)
    assert float(row["status_score"]) == 50.0
    # Weighted attainment x 100: kpi_00 76 / 80 = 0.95 (weight 1), kpi_01 20 / 21 = 0.95238 (weight 2):
    # (0.95 + 2 x 0.95238) / 3 = 0.95159 -> 95.2; both have data, so coverage is 1.
    assert float(row["score"]) == 95.2
    assert float(row["coverage"]) == 1.0
    assert (row["trend"], row["trend_better"]) == ("down", False)
    assert datetime.fromisoformat(row["last_data_at"]) == NOW  # the values were pushed at NOW


def test_the_provider_sees_the_client_as_counterparty_and_filters_apply(world: World, build_engagement, clock) -> None:  # type: ignore[no-untyped-def]
    build_engagement(2, 34, "Big support")
    api = _api(world.provider_manager)
    body = api.get("/api/portfolio").json()
    assert [(i["engagement"], i["counterparty"]) for i in body["items"]] == [
        ("Acme support", "Acme Retail"),
        ("Big support", "Acme Retail"),
    ]
    assert [i["engagement"] for i in api.get("/api/portfolio?attention=true").json()["items"]] == ["Big support"]
    assert [i["engagement"] for i in api.get("/api/portfolio?q=big").json()["items"]] == ["Big support"]
    assert [i["engagement"] for i in api.get("/api/portfolio?sort=-name").json()["items"]] == [
        "Big support",
        "Acme support",
    ]
    paged = api.get("/api/portfolio?page=2&page_size=1").json()
    assert (paged["count"], paged["pages"], [i["engagement"] for i in paged["items"]]) == (2, 2, ["Big support"])
    refused = api.get("/api/portfolio?sort=fee")
    assert refused.status_code == 422
    assert refused.json()["details"][0]["location"].endswith("sort")


def test_the_status_filter_takes_each_engagement_status_and_refuses_another(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    api = _api(world.client_manager)
    # Engagement.Status is draft, active or ended: each is a filter; the one engagement is under its own only.
    found = {}
    for status in ("draft", "active", "ended"):
        response = api.get(f"/api/portfolio?status={status}")
        assert response.status_code == 200, (status, response.content)
        found[status] = [i["engagement"] for i in response.json()["items"]]
    assert found == {s: ["Acme support"] if s == world.engagement.status else [] for s in found}
    refused = api.get("/api/portfolio?status=paused")
    assert refused.status_code == 422
    assert refused.json()["details"][0]["location"].endswith("status")


def test_another_tenants_engagements_never_appear(world: World, build_engagement, clock) -> None:  # type: ignore[no-untyped-def]
    build_engagement(2, 34, "Big support")
    mine = {i["engagement_id"] for i in _api(world.client_manager).get("/api/portfolio").json()["items"]}
    theirs = {i["engagement_id"] for i in _api(world.outsider).get("/api/portfolio").json()["items"]}
    assert world.other_engagement.pk not in mine
    assert theirs == {world.other_engagement.pk}
    # A provider of neither sees none of Acme's.
    other = {i["engagement_id"] for i in _api(world.other_provider_manager).get("/api/portfolio").json()["items"]}
    assert other == {world.other_engagement.pk}


def _queries(api: Client) -> int:
    agreed_cache_clear()  # the worst case: nothing cached in this process
    page_cache_clear()
    with CaptureQueriesContext(connection) as ctx:
        assert api.get("/api/portfolio?page_size=200").status_code == 200
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_engagements(world: World, build_engagement, clock) -> None:  # type: ignore[no-untyped-def]
    api = _api(world.client_manager)
    build_engagement(2, 6, "E1")
    _queries(api)  # the token's first use records when it was last used: not a query of the portfolio
    one = _queries(api)
    for i in range(2, 6):
        build_engagement(2, 6, f"E{i}")
    assert _queries(api) == one <= 15
