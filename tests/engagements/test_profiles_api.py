"""Provider capability profiles over the API (issue 13, item 8: "provider profiles").

A client reads the profiles of its engagements' providers and a provider its own; every other
organisation gets a 404. A provider's administrators and managers change their own profile, with
the profile page's form doing the checking.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from pactboard.accounts.models import ApiToken, Membership, Role
from pactboard.accounts.services import api_token_create
from pactboard.audit.models import AuditEvent
from pactboard.engagements import services
from pactboard.engagements.forms import PROFILE_TEXT_MAX
from pactboard.engagements.models import ProviderProfile
from tests.conftest import World, client_for, make_member

pytestmark = pytest.mark.django_db


def _api(membership: Membership, scope: str = ApiToken.Scope.WRITE) -> Client:
    _, raw = api_token_create(membership=membership, name="profile sync", scope=scope)
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def profile(world: World) -> ProviderProfile:
    return services.provider_profile_update(
        actor=world.provider_manager, summary="Multilingual retail support", locations="Porto\nKrakow"
    )


def test_the_provider_and_its_clients_read_the_profile(world: World, profile: ProviderProfile):
    url = f"/api/provider-profiles/{world.provider_org.pk}"
    for reader in (world.provider_manager, world.client_viewer):
        body = _api(reader, ApiToken.Scope.READ).get(url).json()
        assert body["organisation_id"] == world.provider_org.pk
        assert body["organisation_name"] == "Helpline BPO"
        assert body["summary"] == "Multilingual retail support"
        assert body["locations"] == "Porto\nKrakow"
        assert body["updated_at"] is not None


def test_everyone_else_gets_a_404(world: World, profile: ProviderProfile):
    url = f"/api/provider-profiles/{world.provider_org.pk}"
    # Another client (no engagement with Helpline) and another provider.
    for stranger in (world.outsider, world.other_provider_manager):
        response = _api(stranger).get(url)
        assert response.status_code == 404
        assert response.json()["kind"] == "not_found"
        assert _api(stranger).patch(url, {"summary": "mine now"}, "application/json").status_code == 404
    # A client organisation has no profile, and an unknown id is no different.
    assert _api(world.client_manager).get(f"/api/provider-profiles/{world.client_org.pk}").status_code == 404
    assert _api(world.client_manager).get("/api/provider-profiles/999999").status_code == 404
    assert _api(world.client_manager).get(f"/api/provider-profiles/{2**70}").status_code == 404  # not a 500
    profile.refresh_from_db()
    assert profile.summary == "Multilingual retail support"


def test_a_provider_without_a_profile_yet_reads_as_empty(world: World):
    body = _api(world.client_manager).get(f"/api/provider-profiles/{world.provider_org.pk}").json()
    assert (body["summary"], body["expertise"], body["updated_at"]) == ("", "", None)
    assert not ProviderProfile.objects.exists()  # reading writes nothing


def test_a_provider_manager_changes_only_the_fields_sent_and_it_is_audited(world: World, profile: ProviderProfile):
    response = _api(world.provider_manager).patch(
        f"/api/provider-profiles/{world.provider_org.pk}",
        {"expertise": "  Retail support\nReturns  ", "certifications": "ISO 27001"},
        "application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["expertise"] == "Retail support\nReturns"  # stripped, as the page's form does
    assert body["summary"] == "Multilingual retail support"  # not sent: unchanged
    profile.refresh_from_db()
    assert profile.certifications == "ISO 27001"
    event = AuditEvent.objects.filter(action="provider_profile.update").order_by("id").last()
    assert event is not None
    assert event.actor_email == "pedro@helpline.example"
    assert event.after["expertise"] == "Retail support\nReturns"


def test_the_api_refuses_what_the_page_refuses(world: World, profile: ProviderProfile):
    url = f"/api/provider-profiles/{world.provider_org.pk}"
    too_long = "x " * (PROFILE_TEXT_MAX // 2) + "x"  # PROFILE_TEXT_MAX + 1 characters
    assert len(too_long) == PROFILE_TEXT_MAX + 1
    response = _api(world.provider_manager).patch(url, {"summary": too_long}, "application/json")
    assert response.status_code == 422
    # ProviderProfilePatch's max_length refuses it before the form: pydantic's string_too_long.
    detail = response.json()["details"][0]
    assert (detail["location"], detail["code"]) == ("summary", "string_too_long")
    page = client_for(world.provider_manager).post(reverse("engagements:profile_edit"), {"summary": too_long})
    assert page.status_code == 200  # the form is shown again with its error
    assert f"at most {PROFILE_TEXT_MAX:,}".replace(",", "") in page.text.replace(",", "").replace("\u202f", "")
    null = _api(world.provider_manager).patch(url, {"summary": None}, "application/json")
    assert null.status_code == 422
    assert (null.json()["details"][0]["location"], null.json()["details"][0]["code"]) == ("summary", "null_not_allowed")
    profile.refresh_from_db()
    assert profile.summary == "Multilingual retail support"


def test_only_the_providers_managers_write_and_read_tokens_only_read(world: World, profile: ProviderProfile):
    url = f"/api/provider-profiles/{world.provider_org.pk}"
    viewer = make_member("vera@helpline.example", world.provider_org, Role.VIEWER)
    for refused in (_api(viewer), _api(world.client_manager), _api(world.provider_manager, ApiToken.Scope.READ)):
        response = refused.patch(url, {"summary": "changed"}, "application/json")
        assert response.status_code == 403
        assert response.json()["kind"] == "forbidden"
    profile.refresh_from_db()
    assert profile.summary == "Multilingual retail support"


def test_every_error_status_is_declared_in_the_openapi_document(world: World):
    paths = Client().get("/api/openapi.json").json()["paths"]["/api/provider-profiles/{org_id}"]
    # Each status these operations answer is declared (core.api adds the common ones to every operation).
    assert {"200", "401", "404"} <= set(paths["get"]["responses"])
    assert {"200", "401", "403", "404", "422"} <= set(paths["patch"]["responses"])
