"""The engagement's audit page, its CSV export, its Verify button and its API (both parties; outsiders 404)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from pactboard.accounts.services import api_token_create
from pactboard.audit import services as audit_services
from pactboard.audit.guard import guard_install, guard_remove
from pactboard.audit.selectors import audit_head
from pactboard.audit.services import audit_record
from pactboard.engagements.services import engagement_update, objective_create
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db


def _events(world: World, n: int, *, actor=None, action="objective.update", object_type="engagements.objective"):
    member = actor or world.client_manager
    for i in range(n):
        with transaction.atomic():
            audit_record(
                actor=member.user,
                organisation=member.organisation,
                action=action,
                object_type=object_type,
                object_id=i,
                before={"target": "70 %"},
                after={"target": "75 %"},
                engagement_id=world.engagement.pk,
            )


def _url(name: str, world: World) -> str:
    return reverse(f"dashboards:{name}", args=[world.engagement.pk])


def test_both_parties_read_events_in_words_in_the_engagements_zone(world: World):
    engagement_update(actor=world.client_manager, engagement=world.engagement, monthly_fee=Decimal("120000.00"))
    for member in (world.client_manager, world.provider_manager):
        page = client_for(member).get(_url("audit", world))
        assert page.status_code == 200
        text = page.text
        assert "Changed engagement “Acme support”" in text
        assert "<strong>monthly fee</strong>: 100000.00 → 120000.00" in text
        assert "carla@acme.example" in text
        # Europe/Berlin (the fixture's zone) is CET in winter, CEST in summer; seconds shown, zone named.
        assert re.search(r"<td>\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d:\d\d CES?T</td>", text)
        assert "When (Europe/Berlin)" in text


def test_filters_by_actor_action_and_object(world: World):
    _events(world, 2)
    _events(world, 3, actor=world.provider_manager, action="measurement.record", object_type="measurements.measurement")
    c = client_for(world.client_manager)
    assert c.get(_url("audit", world), {"actor": "pedro@helpline.example"}).text.count('data-testid="audit-event"') == 3
    assert c.get(_url("audit", world), {"action": "objective.update"}).text.count('data-testid="audit-event"') == 2
    by_type = c.get(_url("audit", world), {"object_type": "measurements.measurement", "actor": "carla@acme.example"})
    assert 'data-testid="audit-event"' not in by_type.text
    # A value that does not occur in this chain is an error on the page, not a silently empty list.
    unknown = c.get(_url("audit", world), {"actor": "oscar@globex.example"}).text
    assert "Select a valid choice" in unknown
    assert unknown.count('data-testid="audit-event"') == 5


def test_date_filter_uses_calendar_days_in_the_engagements_zone(world: World, monkeypatch):
    # 23:30 UTC on 1 March 2026 is 00:30 on 2 March in Berlin (CET = UTC+1 until 29 March 2026).
    monkeypatch.setattr(audit_services.timezone, "now", lambda: datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    _events(world, 1)
    c = client_for(world.client_manager)

    def rows(**params: str) -> int:
        return c.get(_url("audit", world), params).text.count('data-testid="audit-event"')

    assert rows(date_from="2026-03-02", date_to="2026-03-02") == 1
    assert rows(date_to="2026-03-01") == 0
    assert rows(date_from="2026-03-03") == 0
    swapped = c.get(_url("audit", world), {"date_from": "2026-03-03", "date_to": "2026-03-01"}).text
    assert "is before “From”" in swapped


def test_pages_of_fifty_newest_first_and_htmx_gets_the_partial(world: World):
    _events(world, 60)
    c = client_for(world.client_manager)
    first = c.get(_url("audit", world)).text
    assert first.count('data-testid="audit-event"') == 50
    assert "Page 1 of 2" in first
    second = c.get(_url("audit", world), {"page": "2"}, headers={"HX-Request": "true"}).text
    assert second.count('data-testid="audit-event"') == 10
    assert "<html" not in second  # the partial, not the page
    assert re.search(r"<td>1</td>", second)  # the oldest event (#1) is on the last page


def test_query_count_does_not_grow_with_events(world: World, django_assert_max_num_queries):
    c = client_for(world.client_manager)
    _events(world, 3)
    # Session, user, membership, engagement, three filter lists, the count and the page: 10 today.
    with django_assert_max_num_queries(12) as few:
        c.get(_url("audit", world))
    _events(world, 57, actor=world.provider_manager, action="measurement.record")
    with django_assert_max_num_queries(len(few.captured_queries)):
        c.get(_url("audit", world))


def test_csv_export_neutralises_formula_cells(world: World):
    objective_create(actor=world.client_manager, engagement=world.engagement, statement='=HYPERLINK("http://x")')
    response = client_for(world.provider_manager).get(_url("audit_csv", world))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    created = [r for r in rows if r["action"] == "objective.create"]
    assert len(created) == 1
    assert created[0]["object"] == '\'=HYPERLINK("http://x")'
    assert created[0]["what"] == "created objective"
    assert created[0]["chain"] == f"engagement:{world.engagement.pk}"


def test_verify_button_shows_the_result_and_head_hash_then_names_a_tampered_event(world: World):
    _events(world, 4)
    c = client_for(world.client_manager)
    intact = c.get(_url("audit_verify", world), headers={"HX-Request": "true"}).text
    assert "Intact." in intact
    assert audit_head(engagement_id=world.engagement.pk).hash in intact
    assert "<html" not in intact
    guard_remove(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET actor_email = 'x@example.com' WHERE chain = %s AND seq = 2",
            [f"engagement:{world.engagement.pk}"],
        )
    guard_install(connection)
    broken = c.get(_url("audit_verify", world)).text  # without HTMX: the whole page
    assert "Broken at event #2 (edited)." in broken
    assert "<html" in broken


def _api(membership) -> Client:
    _, raw = api_token_create(membership=membership, name="test")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_api_pages_events_and_verifies(world: World):
    _events(world, 5)
    api = _api(world.provider_manager)
    body = api.get(f"/api/engagements/{world.engagement.pk}/audit/events", {"page": 2, "page_size": 2}).json()
    assert (body["count"], body["pages"], body["page"]) == (5, 3, 2)
    assert [e["seq"] for e in body["items"]] == [3, 2]  # newest first: 5 4 | 3 2 | 1
    assert body["items"][0]["changes"] == [{"field": "target", "before": "70 %", "after": "75 %"}]
    head = audit_head(engagement_id=world.engagement.pk)
    verified = api.get(f"/api/engagements/{world.engagement.pk}/audit/verify").json()
    assert verified == {
        "ok": True,
        "chain": head.chain,
        "count": 5,
        "head_seq": 5,
        "head_hash": head.hash,
        "problem": None,
    }
    wrong = api.get(f"/api/engagements/{world.engagement.pk}/audit/verify", {"head": "f" * 64}).json()
    assert wrong["ok"] is False
    assert wrong["problem"]["kind"] == "head missing"


@pytest.mark.parametrize("name", ["audit", "audit_csv", "audit_verify"])
@pytest.mark.parametrize("persona", ["outsider", "other_provider_manager"])
def test_outsiders_get_404_on_every_audit_page(world: World, name, persona):
    _events(world, 1)
    assert client_for(getattr(world, persona)).get(_url(name, world)).status_code == 404


@pytest.mark.parametrize("path", ["/api/engagements/{id}/audit/events", "/api/engagements/{id}/audit/verify"])
def test_outsiders_get_404_from_the_audit_api(world: World, path):
    _events(world, 1)
    assert _api(world.outsider).get(path.format(id=world.engagement.pk)).status_code == 404
