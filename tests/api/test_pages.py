"""Every list endpoint answers one page shape, ``{count, page, pages, page_size, items}`` (pactboard.core.api.Pages).

Pages never overlap (a total order: the list's own order, then the primary key), a bad page or page size
is a 422 naming the parameter, and the queries a page costs do not grow with its size.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pactboard.accounts.models import Membership, Role
from pactboard.api.main import api
from pactboard.core.api import MAX_PAGE_SIZE
from pactboard.engagements.models import BusinessChange
from pactboard.governance import services as governance_services
from pactboard.governance.models import Meeting
from tests.conftest import World, api_client, make_engagement
from tests.measurements.conftest import agreed  # noqa: F401 - a fixture, used by name
from tests.test_outsider_walk import victim  # noqa: F401 - a fixture, used by name

pytestmark = pytest.mark.django_db

SHAPE = {"count", "page", "pages", "page_size", "items"}


@pytest.fixture
def seven(world: World) -> World:
    # Six more engagements all named alike: only the tie-break on the key keeps their order total.
    for _ in range(6):
        make_engagement(world.client_org, world.provider_org, "Acme support")
    return world


def test_pages_cover_the_list_once_without_overlap(seven: World):
    c = api_client(seven.client_manager)
    seen: list[int] = []
    for page in (1, 2, 3):
        body = c.get("/api/engagements/", {"page": page, "page_size": 3}).json()
        assert set(body) == SHAPE
        # 7 engagements, 3 a page: ceil(7 / 3) = 3 pages of 3, 3 and 1.
        assert (body["count"], body["page"], body["pages"], body["page_size"]) == (7, page, 3, 3)
        assert len(body["items"]) == (3 if page < 3 else 1)
        seen += [e["id"] for e in body["items"]]
    assert len(seen) == len(set(seen)) == 7
    # The same page twice: the same items (the order is total, not the database's whim).
    again = [e["id"] for e in c.get("/api/engagements/", {"page": 2, "page_size": 3}).json()["items"]]
    assert again == seen[3:6]


def test_past_the_last_page_is_empty_not_the_last_page_again(seven: World):
    body = api_client(seven.client_manager).get("/api/engagements/", {"page": 9, "page_size": 3}).json()
    assert (body["count"], body["page"], body["pages"], body["items"]) == (7, 9, 3, [])


def test_an_empty_list_is_one_empty_page(world: World):
    body = api_client(world.client_manager).get(f"/api/engagements/{world.engagement.pk}/business-changes").json()
    assert body == {"count": 0, "page": 1, "pages": 1, "page_size": 50, "items": []}


@pytest.mark.parametrize(
    ("query", "location"),
    [
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": MAX_PAGE_SIZE + 1}, "page_size"),
    ],
)
def test_a_bad_page_or_page_size_is_a_422_naming_it(world: World, query, location):
    response = api_client(world.client_manager).get("/api/engagements/", query)
    assert response.status_code == 422
    body = response.json()
    assert body["kind"] == "invalid"
    assert [d["location"] for d in body["details"]] == [location]


def test_every_list_operation_is_paged(world: World):
    # Every GET whose 200 answer is a page documents page and page_size; none answers a bare array.
    schema = api.get_openapi_schema()
    components = schema["components"]["schemas"]
    paged, bare = [], []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            ok = op["responses"].get(200, {}).get("content", {}).get("application/json", {}).get("schema", {})
            if ok.get("type") == "array":
                bare.append(f"{method.upper()} {path}")
            ref = ok.get("$ref", "")
            if ref and set(components[ref.rsplit("/", 1)[1]].get("properties", {})) == SHAPE:
                params = {p["name"] for p in op.get("parameters", [])}
                assert {"page", "page_size"} <= params, path
                paged.append(path)
    # The one array left is the meetings a schedule call created (a write's answer, not a list to browse).
    assert bare == ["POST /api/engagements/{engagement_id}/meetings/schedule"]
    assert len(paged) >= 20


def _queries(c: Client, url: str, size: int) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        body = c.get(url, {"page_size": size}).json()
    return len(ctx.captured_queries), len(body["items"])


@pytest.fixture
def busy(world: World) -> World:
    """Several of each listed thing: actions (owned by the provider), meetings, business changes, values."""
    now = timezone.now()
    for i in range(4):
        meeting = Meeting.objects.create(engagement=world.engagement, title=f"Review {i}", starts_at=now + timedelta(i))
        governance_services.action_create(
            actor=world.client_manager,
            engagement=world.engagement,
            meeting=meeting,
            title=f"Action {i}",
            owner_id=world.provider_manager.pk,
            due_date=(now + timedelta(days=10 + i)).date(),
            now=now,
        )
        BusinessChange.objects.create(
            engagement=world.engagement,
            date=now.date(),
            kind=BusinessChange.Kind.choices[0][0],
            title=f"Change {i}",
            created_by=world.client_manager.user,
            created_by_org=world.client_org,
        )
    return world


@pytest.mark.parametrize(
    "path",
    [
        "/api/actions",
        "/api/notifications",
        "/api/engagements/{e}/meetings",
        "/api/engagements/{e}/business-changes",
        "/api/engagements/{e}/audit/events",
    ],
)
def test_a_page_costs_the_same_queries_whatever_its_size(busy: World, path, django_assert_max_num_queries):
    url = path.format(e=busy.engagement.pk)
    c = api_client(busy.provider_manager)
    one, n_one = _queries(c, url, 1)
    assert n_one == 1
    with django_assert_max_num_queries(one):
        body = c.get(url, {"page_size": MAX_PAGE_SIZE}).json()
    assert len(body["items"]) >= 3  # several items, so an item-by-item query would show


PREFETCHES = 2


def test_every_paged_list_costs_the_same_queries_whatever_its_size(world: World, victim: dict):  # noqa: F811
    """Generated from the OpenAPI document: each paged GET, on the outsider walk's seeded tenant."""
    schema = api.get_openapi_schema()
    components = schema["components"]["schemas"]
    # An administrator reads every list, the organisation's invitations included.
    Membership.objects.filter(pk=world.client_manager.pk).update(role=Role.ADMIN)
    c = api_client(world.client_manager)
    grew, several = [], []
    for path, item in schema["paths"].items():
        op = item.get("get")
        ok = (op or {}).get("responses", {}).get(200, {}).get("content", {}).get("application/json", {})
        ref = ok.get("schema", {}).get("$ref", "")
        if not ref or set(components[ref.rsplit("/", 1)[1]].get("properties", {})) != SHAPE:
            continue
        url = path
        for name, value in victim.items():
            url = url.replace(f"{{{name}}}", str(value))
        c.get(url)  # first use of the token records it (an UPDATE): not the list's cost
        one, _ = _queries(c, url, 1)
        many, n_many = _queries(c, url, MAX_PAGE_SIZE)
        # A prefetch (signatures and their signers, a delivery's attempts) runs once a page, and only when an
        # item on the page has such rows: at most PREFETCHES more. A query per item would add one per item,
        # more than that on a list of more than PREFETCHES + 1 items.
        if many > one + PREFETCHES:
            grew.append((path, one, many))
        if n_many > PREFETCHES + 1:
            several.append(path)
    assert not grew, grew
    # The check means something only where a page holds several items.
    assert len(several) >= 4, several  # catalogue, values, outlook, audit events (the busy test has more)
