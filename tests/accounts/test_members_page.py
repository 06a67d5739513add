"""The members page changes roles, removes members and revokes invitations through the API's services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pactboard.accounts.models import Invitation, Membership, Role
from pactboard.accounts.services import invitation_create
from pactboard.audit.models import AuditEvent
from pactboard.governance import services as governance_services
from tests.conftest import World, client_for, make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(world: World) -> Membership:
    return make_member("ada@acme.example", world.client_org, Role.ADMIN)


def test_an_administrator_changes_a_role_on_the_page(world: World, admin: Membership):
    page = client_for(admin)
    response = page.post(reverse("accounts:member_role", args=[world.client_viewer.pk]), {"role": "manager"})
    assert response.status_code == 302
    world.client_viewer.refresh_from_db()
    assert world.client_viewer.role == Role.MANAGER
    assert AuditEvent.objects.filter(action="membership.role_set").count() == 1
    assert "victor@acme.example is now manager." in page.get(reverse("accounts:members")).text


def test_the_page_says_why_the_last_administrator_keeps_the_role(world: World, admin: Membership):
    page = client_for(admin)
    page.post(reverse("accounts:member_role", args=[admin.pk]), {"role": "viewer"})
    text = page.get(reverse("accounts:members")).text
    assert "the only administrator of Acme Retail: make another member an administrator first" in text
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


def test_the_page_names_the_open_actions_that_keep_a_member(world: World, admin: Membership):
    now = timezone.now()
    governance_services.action_create(
        actor=world.client_manager,
        engagement=world.engagement,
        title="Send the QA backlog plan",
        owner_id=world.client_viewer.pk,
        due_date=(now + timedelta(days=14)).date(),
        now=now,
    )
    page = client_for(admin)
    assert page.post(reverse("accounts:member_remove", args=[world.client_viewer.pk])).status_code == 302
    text = page.get(reverse("accounts:members")).text
    assert "still owns 1 open action" in text
    assert "Send the QA backlog plan (Acme support, due" in text
    # Where to reassign it: the message names the action's page and the API, the detail its ids.
    assert "reassign each to another member of its engagement first" in text
    assert f"[engagement {world.engagement.pk}, action " in text
    assert Membership.objects.filter(pk=world.client_viewer.pk).exists()


def test_an_administrator_removes_a_member_and_revokes_an_invitation(world: World, admin: Membership):
    invitation, _ = invitation_create(
        actor=admin, organisation=world.client_org, email="new@acme.example", role="viewer"
    )
    page = client_for(admin)
    assert page.post(reverse("accounts:member_remove", args=[world.client_viewer.pk])).status_code == 302
    assert not Membership.objects.filter(pk=world.client_viewer.pk).exists()
    assert page.post(reverse("accounts:invitation_revoke", args=[invitation.pk])).status_code == 302
    assert not Invitation.objects.exists()
    text = page.get(reverse("accounts:members")).text
    assert "The invitation of new@acme.example is revoked" in text


def test_only_administrators_manage_people_on_the_page(world: World):
    page = client_for(world.client_manager)
    assert page.post(reverse("accounts:member_remove", args=[world.client_viewer.pk])).status_code == 403
    assert (
        page.post(reverse("accounts:member_role", args=[world.client_viewer.pk]), {"role": "admin"}).status_code == 403
    )
    assert Membership.objects.filter(pk=world.client_viewer.pk, role=Role.VIEWER).exists()
    assert 'name="role"' not in page.get(reverse("accounts:members")).text


def _page_queries(page, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert page.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_members_page_takes_as_many_queries_for_many_members_as_for_few(world: World, admin: Membership):
    page = client_for(admin)
    invitation_create(actor=admin, organisation=world.client_org, email="i0@acme.example", role="viewer")
    few = _page_queries(page, reverse("accounts:members"))
    for n in range(1, 13):
        make_member(f"m{n}@acme.example", world.client_org, Role.VIEWER)
        invitation_create(actor=admin, organisation=world.client_org, email=f"i{n}@acme.example", role="viewer")
    assert _page_queries(page, reverse("accounts:members")) == few


def test_an_administrator_who_removes_themselves_is_logged_out(world: World, admin: Membership):
    make_member("bea@acme.example", world.client_org, Role.ADMIN)
    page = client_for(admin)
    response = page.post(reverse("accounts:member_remove", args=[admin.pk]))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=admin.pk).exists()
    assert page.get(reverse("accounts:members")).status_code == 302  # to log-in: the session has ended
