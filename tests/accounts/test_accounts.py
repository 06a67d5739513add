"""Log-in by e-mail, organisation switching, invitations, password reset, API tokens."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pactboard.accounts.middleware import SESSION_KEY
from pactboard.accounts.models import Invitation, Membership, Role, User
from pactboard.accounts.services import api_token_create, invitation_accept, invitation_create
from pactboard.audit.models import AuditEvent
from pactboard.core.errors import PactboardError
from tests.conftest import PASSWORD, World, client_for, make_member

pytestmark = pytest.mark.django_db


def test_login_by_email(world: World):
    c = Client()
    response = c.post(reverse("accounts:login"), {"username": "carla@acme.example", "password": PASSWORD})
    assert response.status_code == 302
    assert c.get(reverse("engagements:list")).status_code == 200


def test_login_with_wrong_password_is_refused(world: World):
    response = Client().post(reverse("accounts:login"), {"username": "carla@acme.example", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct" in response.text


def test_user_in_two_organisations_switches_between_them(world: World):
    # Carla also manages at the other provider, say as a consultant.
    second = make_member("carla@acme.example", world.other_provider_org, Role.VIEWER)
    c = client_for(world.client_manager)
    assert "Acme support" in c.get(reverse("engagements:list")).text
    response = c.post(reverse("accounts:switch"), {"membership": second.pk})
    assert response.status_code == 302
    page = c.get(reverse("engagements:list")).text
    assert "Globex back office" in page
    assert "Acme support" not in page
    assert c.get(reverse("engagements:detail", args=[world.engagement.pk])).status_code == 404


def test_switching_to_a_foreign_membership_is_refused(world: World):
    c = client_for(world.client_manager)
    c.post(reverse("accounts:switch"), {"membership": world.outsider.pk})
    assert c.session[SESSION_KEY] == world.client_manager.pk
    assert "Globex back office" not in c.get(reverse("engagements:list")).text


def _invite(world: World, email: str = "newbie@acme.example", role: str = Role.CONTRIBUTOR, *, capture) -> str:
    admin = make_member("ada@acme.example", world.client_org, Role.ADMIN)
    with capture(execute=True):
        response = client_for(admin).post(reverse("accounts:members"), {"email": email, "role": role})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    match = re.search(r"/accounts/invitations/([\w-]+)/", mail.outbox[0].body)
    assert match, mail.outbox[0].body
    return match.group(0)


def test_invitation_creates_user_and_membership_once(world: World, django_capture_on_commit_callbacks):
    link = _invite(world, capture=django_capture_on_commit_callbacks)
    c = Client()
    assert c.get(link).status_code == 200
    response = c.post(
        link, {"full_name": "New Bie", "password": "a-long-new-pass-42", "password_again": "a-long-new-pass-42"}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="newbie@acme.example")
    assert (membership.organisation, membership.role) == (world.client_org, Role.CONTRIBUTOR)
    assert "Acme support" in c.get(reverse("engagements:list")).text
    # The link works once.
    again = Client().get(link)
    assert again.status_code == 404
    assert "already been used" in again.text


def test_invitation_password_mismatch_rerenders_and_creates_nothing(world: World, django_capture_on_commit_callbacks):
    link = _invite(world, capture=django_capture_on_commit_callbacks)
    response = Client().post(link, {"full_name": "X", "password": "a-long-new-pass-42", "password_again": "different"})
    assert response.status_code == 422
    assert "The two passwords differ" in response.text
    assert not User.objects.filter(email="newbie@acme.example").exists()


def test_expired_invitation_is_refused(world: World, django_capture_on_commit_callbacks):
    link = _invite(world, capture=django_capture_on_commit_callbacks)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = Client().get(link)
    assert response.status_code == 404
    assert "expired" in response.text


def test_only_admins_invite(world: World):
    response = client_for(world.client_manager).post(
        reverse("accounts:members"), {"email": "x@y.example", "role": "viewer"}
    )
    assert response.status_code == 403
    with pytest.raises(PactboardError):
        invitation_create(actor=world.client_manager, organisation=world.client_org, email="x@y.example", role="viewer")
    assert not Invitation.objects.exists()


def test_invitation_refusals_name_field_and_code(world: World):
    admin = make_member("ada@acme.example", world.client_org, Role.ADMIN)
    with pytest.raises(PactboardError) as caught:
        invitation_create(actor=admin, organisation=world.client_org, email="no-at-sign", role="boss")
    # invitation_create: no "@" is invalid_email; a role outside Role.values is invalid_choice.
    assert [(d.location, d.code) for d in caught.value.details] == [
        ("email", "invalid_email"),
        ("role", "invalid_choice"),
    ]
    _, token = invitation_create(actor=admin, organisation=world.client_org, email="new@acme.example", role="viewer")
    for password, code in (("", "required"), ("12345678", "weak_password")):
        with pytest.raises(PactboardError) as caught:
            invitation_accept(token=token, full_name="New Bie", password=password)
        # "12345678" fails Django's numeric and common-password validators: each message its own detail.
        assert {(d.location, d.code) for d in caught.value.details} == {("password", code)}


def test_admin_cannot_invite_into_another_organisation(world: World):
    with pytest.raises(PactboardError) as caught:
        invitation_create(actor=world.outsider, organisation=world.client_org, email="x@y.example", role="admin")
    assert caught.value.kind == "forbidden"


def test_members_page_lists_only_own_organisation(world: World):
    page = client_for(world.client_manager).get(reverse("accounts:members")).text
    assert "carla@acme.example" in page
    assert "pedro@helpline.example" not in page
    assert "oscar@globex.example" not in page


def test_password_reset_sends_a_working_link(world: World):
    response = Client().post(reverse("accounts:password_reset"), {"email": "carla@acme.example"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password-reset/\S+/)", mail.outbox[0].body).group(1)
    c = Client()
    form_page = c.get(link, follow=True)
    assert "Choose a new password" in form_page.text
    set_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    done = c.post(set_url, {"new_password1": "brand-new-pass-77", "new_password2": "brand-new-pass-77"})
    assert done.status_code == 302
    # Through the log-in page: the throttling backend needs the request, which Client.login() does not pass.
    new_session = Client()
    new_session.post(reverse("accounts:login"), {"username": "carla@acme.example", "password": "brand-new-pass-77"})
    assert "_auth_user_id" in new_session.session


def test_user_without_membership_sees_explanation(db):
    user = User.objects.create_user(email="lonely@example.com", password=PASSWORD)
    c = Client()
    c.force_login(user)
    response = c.get(reverse("engagements:list"))
    assert response.status_code == 403
    assert "do not belong to an organisation" in response.text


def test_api_token_is_shown_once_and_stored_hashed(world: World):
    c = client_for(world.provider_manager)
    response = c.post(reverse("accounts:api_tokens"), {"name": "WFM export", "scope": "read", "expires_in_days": "90"})
    raw = re.search(r"(pb_[\w-]+)", response.text).group(1)
    token = world.provider_manager.api_tokens.get()
    assert token.token_hash != raw
    assert raw not in c.get(reverse("accounts:api_tokens")).text


def test_api_token_is_revoked_from_the_tokens_page_and_audited(world: World):
    token, raw = api_token_create(membership=world.provider_manager, name="WFM export")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    assert api.get("/api/engagements/").status_code == 200
    c = client_for(world.provider_manager)
    page = c.get(reverse("accounts:api_tokens")).text
    assert reverse("accounts:api_token_revoke", args=[token.pk]) in page
    response = c.post(reverse("accounts:api_token_revoke", args=[token.pk]))
    assert response.status_code == 302
    assert api.get("/api/engagements/").status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None
    page = c.get(reverse("accounts:api_tokens")).text
    assert "Token WFM export" in page  # the notice
    assert reverse("accounts:api_token_revoke", args=[token.pk]) not in page  # and no longer listed
    event = AuditEvent.objects.get(action="api_token.revoke")
    assert event.actor_id == world.provider_manager.user_id
    assert event.after == {"name": "WFM export", "prefix": token.prefix}
    # Twice is no error, and no second event.
    assert c.post(reverse("accounts:api_token_revoke", args=[token.pk])).status_code == 302
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 1


def test_another_members_token_cannot_be_revoked(world: World):
    token, raw = api_token_create(membership=world.client_manager, name="BI")
    # Someone of another tenant, and a colleague of the same organisation: neither sees the token.
    for other in (world.outsider, world.client_viewer):
        response = client_for(other).post(reverse("accounts:api_token_revoke", args=[token.pk]))
        assert response.status_code == 404
    assert Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/engagements/").status_code == 200
    assert client_for(world.client_viewer).get(reverse("accounts:api_token_revoke", args=[token.pk])).status_code == 405
