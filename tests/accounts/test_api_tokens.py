"""API tokens: expiry, scope, revocation by owner and by org admins, revoked on password change (issue 13, item 5)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pactboard.accounts.models import ApiToken, Role
from pactboard.accounts.services import api_token_create
from pactboard.audit.models import AuditEvent
from pactboard.core.errors import PactboardError
from tests.conftest import World, client_for, make_member

pytestmark = pytest.mark.django_db


def _api(raw: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _objective_post(raw: str, world: World):
    return _api(raw).post(
        f"/api/engagements/{world.engagement.pk}/objectives",
        {"key": "csat", "statement": "Happier customers", "measure": "CSAT", "target": "80 %"},
        content_type="application/json",
    )


def test_a_token_expires_after_the_days_chosen_at_creation(world: World):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        token, raw = api_token_create(membership=world.provider_manager, name="WFM", expires_in_days=30)
        assert token.expires_at == start + timedelta(days=30)
        assert _api(raw).get("/api/engagements/").status_code == 200
        traveller.shift(timedelta(days=30, seconds=1))
        response = _api(raw).get("/api/engagements/")
        assert response.status_code == 401
        assert response.json()["kind"] == "unauthorized"


def test_default_expiry_is_ninety_days_and_at_most_a_year(world: World):
    token, _ = api_token_create(membership=world.provider_manager, name="WFM")
    assert token.expires_at - token.created_at == pytest.approx(timedelta(days=90), abs=timedelta(seconds=5))
    for days in (0, 366):
        with pytest.raises(PactboardError) as info:
            api_token_create(membership=world.provider_manager, name="WFM", expires_in_days=days)
        assert (info.value.details[0].location, info.value.details[0].code) == ("expires_in_days", "out_of_range")
        assert "1 and 365" in info.value.details[0].message


def test_a_read_token_reads_and_gets_403_with_the_one_error_body_on_writes(world: World):
    _, read = api_token_create(membership=world.client_manager, name="BI", scope=ApiToken.Scope.READ)
    assert _api(read).get(f"/api/engagements/{world.engagement.pk}/objectives").status_code == 200
    response = _objective_post(read, world)
    assert response.status_code == 403
    body = response.json()
    assert set(body) == {"message", "kind", "details"}
    assert body["kind"] == "forbidden"
    assert "read-only" in body["message"]
    assert not world.engagement.objectives.filter(key="csat").exists()
    # The same membership with a read-write token writes.
    _, write = api_token_create(membership=world.client_manager, name="sync", scope=ApiToken.Scope.WRITE)
    assert _objective_post(write, world).status_code == 201


def test_the_token_form_offers_scope_and_expiry_with_read_and_90_days_preselected(world: World):
    c = client_for(world.provider_manager)
    page = c.get(reverse("accounts:api_tokens")).text
    assert re.search(r'<option value="read"[^>]*selected', page)
    assert re.search(r'<option value="90"[^>]*selected', page)
    c.post(reverse("accounts:api_tokens"), {"name": "BI", "scope": "write", "expires_in_days": "365"})
    token = ApiToken.objects.get(name="BI")
    assert token.scope == "write"
    assert token.expires_at - token.created_at == pytest.approx(timedelta(days=365), abs=timedelta(seconds=5))


def test_an_org_admin_lists_and_revokes_the_organisations_tokens(world: World):
    admin = make_member("ada@helpline.example", world.provider_org, Role.ADMIN)
    token, raw = api_token_create(membership=world.provider_manager, name="WFM export")
    foreign, _ = api_token_create(membership=world.outsider, name="Globex BI")
    c = client_for(admin)
    page = c.get(reverse("accounts:organisation_tokens"))
    assert page.status_code == 200
    assert "WFM export" in page.text
    assert "pedro@helpline.example" in page.text
    assert "Globex BI" not in page.text
    assert c.post(reverse("accounts:api_token_revoke", args=[token.pk])).status_code == 302
    assert _api(raw).get("/api/engagements/").status_code == 401
    event = AuditEvent.objects.get(action="api_token.revoke")
    assert event.actor_id == admin.user_id
    # An admin of another organisation cannot revoke it, nor see the list of this one.
    assert client_for(world.outsider).post(reverse("accounts:api_token_revoke", args=[token.pk])).status_code == 404
    assert c.post(reverse("accounts:api_token_revoke", args=[foreign.pk])).status_code == 404
    # A manager (not admin) does not get the organisation's list.
    assert client_for(world.provider_manager).get(reverse("accounts:organisation_tokens")).status_code == 403


def test_a_password_reset_revokes_the_users_tokens(world: World):
    _, raw = api_token_create(membership=world.client_manager, name="BI")
    _, kept = api_token_create(membership=world.provider_manager, name="WFM")  # another user's
    Client().post(reverse("accounts:password_reset"), {"email": "carla@acme.example"})
    link = re.search(r"http://testserver(/accounts/password-reset/\S+/)", mail.outbox[0].body).group(1)
    c = Client()
    form_page = c.get(link, follow=True)
    set_url = form_page.redirect_chain[-1][0]
    c.post(set_url, {"new_password1": "brand-new-pass-77", "new_password2": "brand-new-pass-77"})
    assert _api(raw).get("/api/engagements/").status_code == 401
    assert _api(kept).get("/api/engagements/").status_code == 200
    assert AuditEvent.objects.filter(action="api_token.revoke", after__reason="password changed").count() == 1


def test_a_password_change_anywhere_revokes_the_tokens_but_a_rehash_at_log_in_does_not(world: World, settings):
    _, raw = api_token_create(membership=world.client_manager, name="BI")
    user = world.client_manager.user
    # Django re-hashes a password with new parameters at log-in (same password): the tokens stay.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    login = Client().post(
        reverse("accounts:login"), {"username": user.email, "password": "correct-horse-battery-staple"}
    )
    assert login.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_")
    assert _api(raw).get("/api/engagements/").status_code == 200
    # A new password (admin, `changepassword`, any path through set_password and save): revoked.
    user.set_password("another-pass-123")
    user.save()
    assert _api(raw).get("/api/engagements/").status_code == 401


def test_the_organisation_tokens_page_queries_do_not_grow_with_tokens(world: World, django_assert_max_num_queries):
    admin = make_member("ada@helpline.example", world.provider_org, Role.ADMIN)
    for n in range(12):
        api_token_create(membership=world.provider_manager if n % 2 else admin, name=f"t{n}")
    c = client_for(admin)
    c.get(reverse("accounts:organisation_tokens"))  # warm the session
    with django_assert_max_num_queries(8):
        page = c.get(reverse("accounts:organisation_tokens"))
    assert page.text.count("Revoke</button>") == 12
