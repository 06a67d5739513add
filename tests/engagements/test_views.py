"""Engagement pages: visibility by tenant, roles, bad input, query counts."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core import mail
from django.urls import reverse

from pactboard.accounts.models import Invitation, Organisation
from pactboard.audit.models import AuditEvent
from pactboard.engagements.models import Engagement, Objective, ProviderProfile
from pactboard.engagements.services import business_change_record
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db


def test_login_required(client, world: World):
    response = client.get(reverse("engagements:list"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_client_sees_its_engagements_only(world: World):
    response = client_for(world.client_manager).get(reverse("engagements:list"))
    assert response.status_code == 200
    assert "Acme support" in response.text
    assert "Globex back office" not in response.text


def test_provider_sees_its_engagement_not_other_tenants(world: World):
    response = client_for(world.provider_manager).get(reverse("engagements:list"))
    assert "Acme support" in response.text
    assert "Globex back office" not in response.text


def test_list_query_count_does_not_grow_with_engagements(world: World, django_assert_max_num_queries):
    c = client_for(world.client_manager)
    with django_assert_max_num_queries(8) as few:
        c.get(reverse("engagements:list"))
    for i in range(10):
        Engagement.objects.create(
            client=world.client_org,
            provider=world.provider_org,
            name=f"Extra {i}",
            start_date=world.engagement.start_date,
            end_date=world.engagement.end_date,
            currency="EUR",
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = c.get(reverse("engagements:list"))
    assert response.text.count("Extra ") == 10


def test_detail_shows_objectives_profile_and_smart_gaps(world: World):
    ProviderProfile.objects.create(organisation=world.provider_org, certifications="ISO 27001:2022")
    response = client_for(world.client_manager).get(reverse("engagements:detail", args=[world.engagement.pk]))
    assert response.status_code == 200
    assert "Resolve more issues at first contact" in response.text
    assert "ISO 27001:2022" in response.text
    assert "No date" in response.text  # the fixture objective has no deadline
    assert "No owner" in response.text


def test_detail_query_count_does_not_grow_with_objectives(world: World, django_assert_max_num_queries):
    c = client_for(world.client_manager)
    url = reverse("engagements:detail", args=[world.engagement.pk])
    with django_assert_max_num_queries(12) as few:
        c.get(url)
    for i in range(15):
        Objective.objects.create(
            engagement=world.engagement, key=f"goal-{i}", statement=f"Goal {i}", owner=world.client_manager.user
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        c.get(url)


OUTSIDER_URLS = [
    ("engagements:detail", lambda w: [w.engagement.pk]),
    ("engagements:edit", lambda w: [w.engagement.pk]),
    ("dashboards:audit", lambda w: [w.engagement.pk]),
    ("engagements:objective_create", lambda w: [w.engagement.pk]),
    ("engagements:objective_edit", lambda w: [w.engagement.pk, w.objective.pk]),
]


@pytest.mark.parametrize(("name", "args"), OUTSIDER_URLS)
@pytest.mark.parametrize("persona", ["outsider", "other_provider_manager"])
def test_outsider_gets_404_on_every_engagement_view(world: World, name, args, persona):
    c = client_for(getattr(world, persona))
    url = reverse(name, args=args(world))
    assert c.get(url).status_code == 404
    assert c.post(url, {"name": "hijack", "statement": "hijack"}).status_code == 404
    assert not Objective.objects.filter(statement="hijack").exists()
    world.engagement.refresh_from_db()
    assert world.engagement.name == "Acme support"


def test_provider_cannot_edit_engagement_or_objectives(world: World):
    c = client_for(world.provider_manager)
    assert c.get(reverse("engagements:detail", args=[world.engagement.pk])).status_code == 200
    response = c.post(
        reverse("engagements:objective_create", args=[world.engagement.pk]),
        {"horizon": "short", "statement": "Provider goal"},
    )
    assert response.status_code == 403
    assert not Objective.objects.filter(statement="Provider goal").exists()


def _engagement_form(**overrides):
    data = {
        "name": "New support deal",
        "provider": "",
        "new_provider_name": "Fresh Provider Ltd",
        "new_provider_admin_email": "admin@fresh.example",
        "scope": "Chat support",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "currency": "eur",
        "monthly_fee": "12500.50",
        "review_cadence": "monthly",
        "report_cadence": "monthly",
        "time_zone": "Europe/Paris",
        "status": "draft",
    }
    data.update(overrides)
    return data


def test_client_manager_creates_engagement_and_invites_new_provider(world: World, django_capture_on_commit_callbacks):
    c = client_for(world.client_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(reverse("engagements:create"), _engagement_form())
    assert response.status_code == 302
    engagement = Engagement.objects.get(name="New support deal")
    assert engagement.currency == "EUR"
    assert str(engagement.monthly_fee) == "12500.50"
    assert engagement.provider.name == "Fresh Provider Ltd"
    assert engagement.provider.kind == Organisation.Kind.PROVIDER
    invitation = Invitation.objects.get(email="admin@fresh.example")
    assert invitation.role == "admin"
    assert len(mail.outbox) == 1
    assert "/accounts/invitations/" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="engagement.create", engagement_id=engagement.pk).exists()


def test_missing_required_field_rerenders_with_message_at_field(world: World):
    c = client_for(world.client_manager)
    before = Engagement.objects.count()
    response = c.post(reverse("engagements:create"), _engagement_form(name=""))
    assert response.status_code == 422
    assert 'id="id_name_error"' in response.text
    assert "This field is required." in response.text
    assert 'aria-invalid="true"' in response.text
    assert Engagement.objects.count() == before
    assert not Organisation.objects.filter(name="Fresh Provider Ltd").exists()


def test_end_before_start_is_refused_and_nothing_saved(world: World, django_capture_on_commit_callbacks):
    c = client_for(world.client_manager)
    before = (Engagement.objects.count(), AuditEvent.objects.count(), Organisation.objects.count())
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(
            reverse("engagements:create"), _engagement_form(start_date="2026-06-01", end_date="2026-05-31")
        )
    assert response.status_code == 422
    assert 'id="id_end_date_error"' in response.text
    assert "The end date must be on or after the start date." in response.text
    assert (Engagement.objects.count(), AuditEvent.objects.count(), Organisation.objects.count()) == before
    assert mail.outbox == []


def test_service_refuses_end_before_start_even_without_the_form(world: World):
    from datetime import date

    from pactboard.core.errors import PactboardError
    from pactboard.engagements.services import engagement_create

    with pytest.raises(PactboardError) as caught:
        engagement_create(
            actor=world.client_manager,
            provider=world.provider_org,
            name="Backwards",
            start_date=date(2026, 6, 1),
            end_date=date(2026, 5, 1),
            currency="EUR",
        )
    # Engagement.clean names an end before the start end_before_start; _validation_to_domain keeps the code.
    assert [(d.location, d.code) for d in caught.value.details] == [("end_date", "end_before_start")]
    assert not Engagement.objects.filter(name="Backwards").exists()


def test_edit_engagement_is_audited_with_before_and_after(world: World):
    c = client_for(world.client_manager)
    data = _engagement_form(name="Acme support (EMEA)", monthly_fee="110000.00")
    for key in ("provider", "new_provider_name", "new_provider_admin_email"):
        data.pop(key)
    response = c.post(reverse("engagements:edit", args=[world.engagement.pk]), data)
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="engagement.update")
    assert event.before["name"] == "Acme support"
    assert event.after["name"] == "Acme support (EMEA)"
    assert event.after["monthly_fee"] == "110000.00"


def test_objective_create_and_smart_message(world: World):
    c = client_for(world.client_manager)
    response = c.post(
        reverse("engagements:objective_create", args=[world.engagement.pk]),
        {
            "horizon": "long",
            "statement": "Raise CSAT",
            "measure": "CSAT",
            "target": "88 %",
            "deadline": "2027-06-30",
            "owner": world.provider_manager.user.pk,
            "relevance": "Loyalty",
        },
    )
    assert response.status_code == 302
    objective = Objective.objects.get(statement="Raise CSAT")
    assert objective.owner == world.provider_manager.user
    page = c.get(reverse("engagements:detail", args=[world.engagement.pk])).text
    assert "Not linked to a KPI" in page


def test_objective_owner_must_be_a_party(world: World):
    c = client_for(world.client_manager)
    response = c.post(
        reverse("engagements:objective_create", args=[world.engagement.pk]),
        {"horizon": "short", "statement": "Outsider owned", "owner": world.outsider.user.pk},
    )
    assert response.status_code == 422
    assert not Objective.objects.filter(statement="Outsider owned").exists()


def test_profile_is_edited_by_provider_and_read_by_its_clients_only(world: World):
    c = client_for(world.provider_manager)
    response = c.post(
        reverse("engagements:profile_edit"), {"expertise": "Retail support\nReturns", "locations": "Porto"}
    )
    assert response.status_code == 302
    profile = ProviderProfile.objects.get(organisation=world.provider_org)
    assert profile.lines(profile.expertise) == ["Retail support", "Returns"]
    assert (
        "Porto" in client_for(world.client_manager).get(reverse("engagements:detail", args=[world.engagement.pk])).text
    )
    # A client may not edit a provider's profile.
    assert client_for(world.client_manager).get(reverse("engagements:profile_edit")).status_code == 403
    from pactboard.engagements.selectors import provider_profile_for

    assert provider_profile_for(membership=world.outsider, organisation=world.provider_org) is None


def test_viewer_cannot_create_engagements(world: World):
    c = client_for(world.client_viewer)
    assert c.get(reverse("engagements:create")).status_code == 403


def test_detail_and_audit_show_money_and_times_by_the_one_rule(world: World):
    # The fixture's fee is 100000.00 EUR: euro sign, thousands grouped, two minor places.
    c = client_for(world.client_manager)
    detail = c.get(reverse("engagements:detail", args=[world.engagement.pk])).text
    assert "<dd>€100,000.00</dd>" in detail
    # Audit times are in the engagement's zone (Europe/Berlin: CET, or CEST in summer), the zone named,
    # to the second; before, they were UTC with no zone named ("2026-11-29 10:38:27").
    business_change_record(
        actor=world.client_manager, engagement=world.engagement, date=date(2026, 2, 1), kind="launch", title="Portal"
    )
    audit = c.get(reverse("dashboards:audit", args=[world.engagement.pk])).text
    assert re.search(r"<td>\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d:\d\d CES?T</td>", audit)
