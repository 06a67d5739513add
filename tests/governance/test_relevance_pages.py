"""KPI relevance review pages and API: both parties see the review, the client decides, the query count holds."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pactboard.accounts.services import api_token_create
from pactboard.api.main import api
from pactboard.core.periods import Period
from pactboard.engagements.models import Engagement
from pactboard.governance import relevance
from pactboard.governance.models import RelevanceComment, RelevanceReview
from pactboard.kpis.models import AgreementVersion
from pactboard.measurements import services as measurement_services
from tests.conftest import World, client_for, make_engagement
from tests.dashboards.conftest import agree_kpis, kpi_code

pytestmark = pytest.mark.django_db


def _push(world: World, engagement: Engagement, codes: list[str], months: int) -> None:
    measurement_services.values_push(
        actor=world.provider_manager,
        engagement=engagement,
        rows=[
            measurement_services.ValueRow(
                kpi_code=code, period=Period.parse(f"2026-{m:02d}"), value=Decimal(70 + (m * 7 + i * 3) % 25)
            )
            for i, code in enumerate(codes)
            for m in range(1, months + 1)
        ],
    )


def _open(world: World, engagement: Engagement) -> RelevanceReview:
    review, _ = relevance.relevance_review_open(actor=world.client_manager, engagement=engagement, now=timezone.now())
    return review


@pytest.fixture
def review(world: World) -> RelevanceReview:
    agree_kpis(world, world.engagement, 3)
    _push(world, world.engagement, ["kpi_00"], 3)
    return _open(world, world.engagement)


def _url(review: RelevanceReview, tail: str = "") -> str:
    return f"/engagements/{review.engagement_id}/relevance/{review.pk}/{tail}"


def test_both_parties_see_the_review_only_the_client_gets_the_forms(world: World, review):
    client_page = client_for(world.client_manager).get(_url(review))
    provider_page = client_for(world.provider_manager).get(_url(review))
    assert client_page.status_code == provider_page.status_code == 200
    assert b"Save the decision" in client_page.content
    assert b"Close the review" in client_page.content
    assert b"Save the decision" not in provider_page.content
    assert b"Comment on KPI 00" in provider_page.content
    assert b'data-testid="evidence-kpi_00"' in provider_page.content
    listing = client_for(world.provider_manager).get(f"/engagements/{world.engagement.pk}/relevance/")
    assert listing.status_code == 200
    assert _url(review).encode() in listing.content
    assert client_for(world.outsider).get(_url(review)).status_code == 404


def test_the_page_decides_comments_and_closes_into_a_draft(world: World, review):
    client, provider = client_for(world.client_manager), client_for(world.provider_manager)
    items = {i.kpi_code: i for i in review.items.all()}
    bad = client.post(
        _url(review, f"items/{items['kpi_01'].pk}/decide/"), {f"k{items['kpi_01'].pk}-decision": "retire"}
    )
    assert bad.status_code == 422
    assert "Say why you retire this KPI." in bad.content.decode()
    forbidden = provider.post(
        _url(review, f"items/{items['kpi_01'].pk}/decide/"), {f"k{items['kpi_01'].pk}-decision": "keep"}
    )
    assert forbidden.status_code == 403
    for code, data in {
        "kpi_00": {"decision": "adjust", "new_target": "85", "reason": "Consistently met."},
        "kpi_01": {"decision": "retire", "reason": "No longer relevant."},
        "kpi_02": {"decision": "keep"},
    }.items():
        item = items[code]
        response = client.post(
            _url(review, f"items/{item.pk}/decide/"), {f"k{item.pk}-{k}": v for k, v in data.items()}
        )
        assert response.status_code == 302, response.content.decode()[:2000]
    comment = provider.post(
        _url(review, f"items/{items['kpi_01'].pk}/comments/"), {f"c{items['kpi_01'].pk}-body": "Agreed."}
    )
    assert comment.status_code == 302
    assert RelevanceComment.objects.get().organisation == world.provider_org
    closed = client.post(_url(review, "close/"))
    draft = AgreementVersion.objects.get(engagement=world.engagement, status="draft")
    assert closed.status_code == 302
    assert closed["Location"].endswith(f"/agreement/versions/{draft.pk}/")
    page = provider.get(_url(review)).content.decode()
    assert f"version {draft.number}" in page
    assert "Comment on" not in page  # closed: no more forms


def test_opening_from_the_list_page(world: World):
    agree_kpis(world, world.engagement, 1)
    response = client_for(world.provider_manager).post(f"/engagements/{world.engagement.pk}/relevance/open/")
    review = RelevanceReview.objects.get(engagement=world.engagement)
    assert response.status_code == 302
    assert response["Location"] == _url(review)
    viewer = client_for(world.client_viewer).post(f"/engagements/{world.engagement.pk}/relevance/open/")
    assert viewer.status_code == 403
    settings = client_for(world.client_manager).post(
        f"/engagements/{world.engagement.pk}/relevance/settings/", {"every_months": "4"}
    )
    assert settings.status_code == 302
    assert relevance.relevance_every_months(engagement=world.engagement) == 4


def _page_queries(membership, review: RelevanceReview) -> int:
    c = client_for(membership)
    c.get(_url(review))  # warm the session and caches
    with CaptureQueriesContext(connection) as ctx:
        assert c.get(_url(review)).status_code == 200
    return len(ctx.captured_queries)


def test_the_review_page_does_not_query_per_kpi_or_period(world: World):
    agree_kpis(world, world.engagement, 2)
    _push(world, world.engagement, ["kpi_00"], 2)
    small = _open(world, world.engagement)
    bigger = make_engagement(world.client_org, world.provider_org, "Acme back office")
    agree_kpis(world, bigger, 6)
    _push(world, bigger, [kpi_code(i) for i in range(6)], 9)
    large = _open(world, bigger)
    for item in relevance.relevance_items(review=large):
        relevance.relevance_comment_add(actor=world.provider_manager, item=item, body="Evidence noted.")
    assert _page_queries(world.client_manager, small) == _page_queries(world.client_manager, large)


# --- API ------------------------------------------------------------------------------------------


def _api(membership) -> Client:
    _, raw = api_token_create(membership=membership, name="test")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _post(c: Client, path: str, body: dict) -> object:
    return c.post(path, data=json.dumps(body), content_type="application/json")


def test_the_api_does_what_the_pages_do(world: World):
    agree_kpis(world, world.engagement, 3)
    client, provider = _api(world.client_manager), _api(world.provider_manager)
    base = f"/api/engagements/{world.engagement.pk}/relevance-reviews"
    opened = _post(client, base, {})
    assert opened.status_code == 201
    body = opened.json()
    assert _post(provider, base, {}).status_code == 200  # the open one, not a second
    items = {i["kpi_code"]: i for i in body["items"]}
    assert items["kpi_00"]["evidence"]["periods_in_force"] >= 1
    review = f"{base}/{body['id']}"
    assert provider.get(base).json()["items"][0]["id"] == body["id"]
    refused = _post(provider, f"{review}/items/{items['kpi_00']['id']}/decision", {"decision": "keep"})
    assert refused.status_code == 403
    invalid = _post(client, f"{review}/items/{items['kpi_00']['id']}/decision", {"decision": "adjust", "reason": "x"})
    assert invalid.status_code == 422
    decided = _post(
        client,
        f"{review}/items/{items['kpi_00']['id']}/decision",
        {"decision": "adjust", "new_target": "85", "reason": "Raise the bar."},
    )
    assert decided.status_code == 200
    assert Decimal(decided.json()["new_target"]) == 85
    _post(client, f"{review}/items/{items['kpi_01']['id']}/decision", {"decision": "retire", "reason": "Stale."})
    early = _post(client, f"{review}/close", {})
    assert early.status_code == 422  # kpi_02 undecided
    _post(client, f"{review}/items/{items['kpi_02']['id']}/decision", {"decision": "keep"})
    comment = _post(provider, f"{review}/items/{items['kpi_01']['id']}/comments", {"body": "Fine by us."})
    assert comment.status_code == 201
    closed = _post(client, f"{review}/close", {})
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert closed.json()["draft_version_id"] == AgreementVersion.objects.get(status="draft").pk
    again = _post(client, f"{review}/close", {})
    assert again.status_code == 409
    detail = provider.get(review).json()
    assert [c["body"] for c in {i["kpi_code"]: i for i in detail["items"]}["kpi_01"]["comments"]] == ["Fine by us."]
    settings = client.put(
        f"/api/engagements/{world.engagement.pk}/relevance-settings",
        data=json.dumps({"every_months": 12}),
        content_type="application/json",
    )
    assert settings.status_code == 200
    assert client.get(f"/api/engagements/{world.engagement.pk}/relevance-settings").json() == {"every_months": 12}


def test_the_openapi_document_names_the_response_codes():
    paths = api.get_openapi_schema()["paths"]
    close = paths["/api/engagements/{engagement_id}/relevance-reviews/{review_id}/close"]["post"]["responses"]
    # Each status these operations answer is declared (core.api adds the common ones to every operation).
    assert {"200", "403", "404", "409", "422"} <= {str(c) for c in close}
    opening = paths["/api/engagements/{engagement_id}/relevance-reviews"]["post"]["responses"]
    assert {"200", "201"} <= {str(c) for c in opening}
    read = paths["/api/engagements/{engagement_id}/relevance-reviews/{review_id}"]["get"]["responses"]
    assert {"200", "404"} <= {str(c) for c in read}
