"""Organisation and membership admin over the API (issue 13, item 8: "invite, list, change role, remove").

Only administrators write; read tokens only read; an organisation always keeps an administrator; a
removed member loses their tokens and sessions; a member who still owns open actions is not removed
(the action would lose its owner); another organisation's members and invitations are 404s.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pactboard.accounts import ports
from pactboard.accounts.models import ApiToken, Invitation, Membership, Role
from pactboard.accounts.services import api_token_create, invitation_get_usable
from pactboard.audit.models import AuditEvent
from pactboard.core.errors import PactboardError
from pactboard.governance import services as governance_services
from pactboard.governance.models import ActionItem
from tests.conftest import World, client_for, make_member

pytestmark = pytest.mark.django_db


def _api(membership: Membership, scope: str = ApiToken.Scope.WRITE) -> Client:
    _, raw = api_token_create(membership=membership, name="admin script", scope=scope)
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def admin(world: World) -> Membership:
    return make_member("ada@acme.example", world.client_org, Role.ADMIN)


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- reading ---------------------------------------------------------------------------------


def test_every_member_reads_their_own_organisation(world: World):
    body = _api(world.client_viewer, ApiToken.Scope.READ).get("/api/organisation").json()
    assert body == {"id": world.client_org.pk, "name": "Acme Retail", "slug": "acme", "kind": "client"}


def test_members_are_listed_a_page_at_a_time_in_email_order(world: World, admin: Membership):
    api = _api(world.client_viewer, ApiToken.Scope.READ)
    # Acme has three members: ada (admin), carla (manager), victor (viewer). With 2 a page: pages = ceil(3 / 2) = 2.
    first = api.get("/api/organisation/members?page=1&page_size=2").json()
    assert (first["count"], first["page"], first["pages"], first["page_size"]) == (3, 1, 2, 2)
    assert [m["email"] for m in first["items"]] == ["ada@acme.example", "carla@acme.example"]
    assert first["items"][0]["role"] == "admin"
    assert first["items"][0]["id"] == admin.pk
    second = api.get("/api/organisation/members?page=2&page_size=2").json()
    assert [m["email"] for m in second["items"]] == ["victor@acme.example"]
    # The provider's members are not Acme's.
    everyone = api.get("/api/organisation/members").json()
    assert "pedro@helpline.example" not in {m["email"] for m in everyone["items"]}
    assert api.get("/api/organisation/members?page_size=201").status_code == 422
    assert api.get("/api/organisation/members?page=0").status_code == 422


def test_one_member_is_read_by_id_and_another_organisations_member_is_a_404(world: World):
    api = _api(world.client_viewer, ApiToken.Scope.READ)
    body = api.get(f"/api/organisation/members/{world.client_manager.pk}").json()
    assert (body["email"], body["role"], body["full_name"]) == ("carla@acme.example", "manager", "Carla")
    response = api.get(f"/api/organisation/members/{world.provider_manager.pk}")
    assert response.status_code == 404
    assert response.json()["kind"] == "not_found"


def _member_list_queries(api: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_endpoints_take_as_many_queries_for_many_members_as_for_few(world: World, admin: Membership):
    api = _api(admin)
    api.get("/api/organisation")  # the token's first use records it (one UPDATE), not counted below

    def add(n: int) -> None:
        make_member(f"m{n}@acme.example", world.client_org, Role.VIEWER)
        Invitation.objects.create(
            organisation=world.client_org,
            email=f"i{n}@acme.example",
            token_hash=f"h{n}",
            invited_by=make_member(f"inviter{n}@acme.example", world.client_org, Role.ADMIN).user,
            expires_at=timezone.now() + timedelta(days=7),
        )

    add(0)
    few_members = _member_list_queries(api, "/api/organisation/members")
    few_invitations = _member_list_queries(api, "/api/organisation/invitations")
    for n in range(1, 13):
        add(n)
    assert _member_list_queries(api, "/api/organisation/members") == few_members
    assert _member_list_queries(api, "/api/organisation/invitations") == few_invitations


# --- who may write ---------------------------------------------------------------------------


def test_only_administrators_write(world: World, admin: Membership):
    manager = _api(world.client_manager)
    attempts = [
        manager.post(
            "/api/organisation/invitations", {"email": "x@acme.example", "role": "viewer"}, "application/json"
        ),
        manager.patch(f"/api/organisation/members/{world.client_viewer.pk}", {"role": "admin"}, "application/json"),
        manager.delete(f"/api/organisation/members/{world.client_viewer.pk}"),
    ]
    for response in attempts:
        assert response.status_code == 403, response.content
        assert response.json()["kind"] == "forbidden"
        assert "administrator" in response.json()["message"]
    assert not Invitation.objects.exists()
    world.client_viewer.refresh_from_db()
    assert world.client_viewer.role == Role.VIEWER


def test_a_read_token_of_an_administrator_only_reads(world: World, admin: Membership):
    api = _api(admin, ApiToken.Scope.READ)
    assert api.get("/api/organisation/members").status_code == 200
    response = api.patch(f"/api/organisation/members/{world.client_viewer.pk}", {"role": "admin"}, "application/json")
    assert response.status_code == 403
    assert "read-only" in response.json()["message"]
    assert api.delete(f"/api/organisation/members/{world.client_viewer.pk}").status_code == 403
    assert api.post("/api/organisation/invitations", {"email": "x@a.example"}, "application/json").status_code == 403
    assert Membership.objects.filter(pk=world.client_viewer.pk, role=Role.VIEWER).exists()


# --- invitations -----------------------------------------------------------------------------


def test_an_invitation_sends_the_same_email_as_the_page_and_is_audited(
    world: World, admin: Membership, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _api(admin).post(
            "/api/organisation/invitations", {"email": " New@Acme.example ", "role": "contributor"}, "application/json"
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["email"], body["role"], body["status"]) == ("new@acme.example", "contributor", "pending")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "You are invited to Acme Retail on Pactboard"
    assert mail.outbox[0].to == ["new@acme.example"]
    link = re.search(r"/accounts/invitations/([\w-]+)/", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    assert invitation_get_usable(token=link.group(1)).pk == body["id"]
    [event] = _events("invitation.create")
    assert (event.actor_email, event.after) == (
        "ada@acme.example",
        {"email": "new@acme.example", "role": "contributor"},
    )


def test_inviting_a_pending_address_again_is_a_409_naming_the_invitation(world: World, admin: Membership):
    api = _api(admin)
    first = api.post("/api/organisation/invitations", {"email": "new@acme.example"}, "application/json").json()
    again = api.post("/api/organisation/invitations", {"email": "NEW@acme.example"}, "application/json")
    assert again.status_code == 409
    assert again.json()["kind"] == "conflict"
    assert f"invitation {first['id']}" in again.json()["message"]
    assert "revoke" in again.json()["message"]
    assert Invitation.objects.count() == 1
    # Once revoked, or once expired, the address can be invited again.
    assert api.delete(f"/api/organisation/invitations/{first['id']}").status_code == 204
    second = api.post("/api/organisation/invitations", {"email": "new@acme.example"}, "application/json")
    assert second.status_code == 201
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert (
        api.post("/api/organisation/invitations", {"email": "new@acme.example"}, "application/json").status_code == 201
    )


def test_invitation_input_is_checked(world: World, admin: Membership):
    api = _api(admin)
    for body, location, code in (
        # The form's EmailField refuses it with Django's "invalid", which the API names invalid_email.
        ({"email": "not-an-address"}, "email", "invalid_email"),
        ({"email": "x@acme.example", "role": "owner"}, "role", "invalid_choice"),  # the form's ChoiceField
        ({"email": "carla@acme.example"}, "email", "already_member"),  # invitation_create
        ({"email": "x" * 250 + "@a.example"}, "email", "string_too_long"),  # the schema's max_length=254
    ):
        response = api.post("/api/organisation/invitations", body, "application/json")
        assert response.status_code == 422, body
        assert (response.json()["details"][0]["location"], response.json()["details"][0]["code"]) == (location, code)
    assert not Invitation.objects.exists()


def test_pending_invitations_are_listed_and_revoked(
    world: World, admin: Membership, django_capture_on_commit_callbacks
):
    api = _api(admin)
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/api/organisation/invitations", {"email": "new@acme.example"}, "application/json").json()
    listed = api.get("/api/organisation/invitations").json()
    assert (listed["count"], [i["email"] for i in listed["items"]]) == (1, ["new@acme.example"])
    assert listed["items"][0]["invited_by"] == "ada@acme.example"
    assert api.delete(f"/api/organisation/invitations/{created['id']}").status_code == 204
    assert api.get("/api/organisation/invitations").json()["count"] == 0
    # The e-mailed link no longer works.
    token = re.search(r"/accounts/invitations/([\w-]+)/", mail.outbox[0].body).group(1)  # type: ignore[union-attr]
    with pytest.raises(PactboardError):
        invitation_get_usable(token=token)
    [event] = _events("invitation.revoke")
    assert event.after == {"email": "new@acme.example", "role": "viewer"}
    assert api.delete(f"/api/organisation/invitations/{created['id']}").status_code == 404


# --- roles and the last administrator --------------------------------------------------------


def test_an_administrator_changes_a_role_and_it_is_audited(world: World, admin: Membership):
    response = _api(admin).patch(
        f"/api/organisation/members/{world.client_viewer.pk}", {"role": "contributor"}, "application/json"
    )
    assert response.status_code == 200
    assert response.json()["role"] == "contributor"
    world.client_viewer.refresh_from_db()
    assert world.client_viewer.role == Role.CONTRIBUTOR
    [event] = _events("membership.role_set")
    assert (event.before, event.after) == (
        {"role": "viewer"},
        {"role": "contributor", "user": "victor@acme.example"},
    )
    bad = _api(admin).patch(f"/api/organisation/members/{world.client_viewer.pk}", {"role": "boss"}, "application/json")
    assert bad.status_code == 422
    assert (bad.json()["details"][0]["location"], bad.json()["details"][0]["code"]) == ("role", "invalid_choice")


def test_the_last_administrator_is_neither_demoted_nor_removed(world: World, admin: Membership):
    api = _api(admin)
    demote = api.patch(f"/api/organisation/members/{admin.pk}", {"role": "manager"}, "application/json")
    assert demote.status_code == 409
    assert "only administrator of Acme Retail" in demote.json()["message"]
    remove = api.delete(f"/api/organisation/members/{admin.pk}")
    assert remove.status_code == 409
    assert "only administrator" in remove.json()["message"]
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN
    assert not _events("membership.role_set")
    assert not _events("membership.remove")
    # With a second administrator, the first may step down.
    promote = api.patch(f"/api/organisation/members/{world.client_manager.pk}", {"role": "admin"}, "application/json")
    assert promote.status_code == 200
    assert (
        api.patch(f"/api/organisation/members/{admin.pk}", {"role": "manager"}, "application/json").status_code == 200
    )


# --- removing a member -----------------------------------------------------------------------


def test_a_removed_member_loses_tokens_and_sessions_and_it_is_audited(world: World, admin: Membership):
    victor = world.client_viewer
    token, raw = api_token_create(membership=victor, name="victor's script", scope=ApiToken.Scope.READ)
    browser = client_for(victor)
    assert browser.get(reverse("accounts:members")).status_code == 200
    assert Session.objects.count() == 1

    response = _api(admin).delete(f"/api/organisation/members/{victor.pk}")
    assert response.status_code == 204, response.content

    assert not Membership.objects.filter(pk=victor.pk).exists()
    assert Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/organisation").status_code == 401
    assert not Session.objects.exists()
    assert browser.get(reverse("accounts:members")).status_code == 302  # back to log-in
    [revoked] = _events("api_token.revoke")
    assert (revoked.object_id, revoked.after["reason"]) == (str(token.pk), "removed from the organisation")
    [removed] = _events("membership.remove")
    assert (removed.actor_email, removed.before) == (
        "ada@acme.example",
        {"user": "victor@acme.example", "role": "viewer"},
    )


def test_removal_keeps_the_sessions_a_member_uses_for_another_organisation(world: World, admin: Membership):
    # Victor also works for the provider; his session there must outlive his removal from Acme.
    at_provider = make_member("victor@acme.example", world.provider_org, Role.VIEWER)
    there = client_for(at_provider)
    here = client_for(world.client_viewer)
    assert _api(admin).delete(f"/api/organisation/members/{world.client_viewer.pk}").status_code == 204
    assert there.get(reverse("accounts:members")).status_code == 200
    assert here.get(reverse("accounts:members")).status_code == 302


def _open_action(world: World, owner: Membership) -> ActionItem:
    now = timezone.now()
    return governance_services.action_create(
        actor=world.client_manager,
        engagement=world.engagement,
        title="Send the QA backlog plan",
        owner_id=owner.pk,
        due_date=(now + timedelta(days=14)).date(),
        now=now,
    )


def test_a_member_who_owns_open_actions_is_not_removed_and_is_told_which(world: World, admin: Membership):
    action = _open_action(world, world.client_viewer)
    response = _api(admin).delete(f"/api/organisation/members/{world.client_viewer.pk}")
    assert response.status_code == 409
    body = response.json()
    assert "1 open action" in body["message"]
    assert "done or cancelled" in body["message"]
    [detail] = body["details"]
    assert "Send the QA backlog plan" in detail["message"]
    assert "Acme support" in detail["message"]
    assert detail["location"] == f"engagement {world.engagement.pk}, action {action.pk}"
    assert Membership.objects.filter(pk=world.client_viewer.pk).exists()
    assert not _events("membership.remove")


def test_closed_actions_pass_to_the_remover_so_the_record_keeps_an_owner(world: World, admin: Membership):
    action = _open_action(world, world.client_viewer)
    governance_services.action_status_set(actor=world.client_manager, action=action, status="done", now=timezone.now())
    assert _api(admin).delete(f"/api/organisation/members/{world.client_viewer.pk}").status_code == 204
    action.refresh_from_db()
    assert (action.owner_id, action.status) == (admin.pk, "done")
    [event] = _events("action.owner_transfer")
    assert event.engagement_id == world.engagement.pk
    assert (event.before, event.after) == ({"owner": "victor@acme.example"}, {"owner": "ada@acme.example"})


# --- other organisations ---------------------------------------------------------------------


def test_another_organisations_members_and_invitations_are_404s_for_an_administrator(world: World, admin: Membership):
    invitation = _api(admin).post("/api/organisation/invitations", {"email": "new@acme.example"}, "application/json")
    foreign = _api(world.outsider)  # administrator of Globex
    responses = [
        foreign.get(f"/api/organisation/members/{world.client_viewer.pk}"),
        foreign.patch(f"/api/organisation/members/{world.client_viewer.pk}", {"role": "admin"}, "application/json"),
        foreign.delete(f"/api/organisation/members/{world.client_viewer.pk}"),
        foreign.delete(f"/api/organisation/invitations/{invitation.json()['id']}"),
    ]
    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert Membership.objects.filter(pk=world.client_viewer.pk, role=Role.VIEWER).exists()
    assert Invitation.objects.count() == 1
    # A non-administrator of another organisation gets the same 404, not a 403 that says "it exists".
    # Ids past the column's range are no different (not a 500).
    for response in (
        foreign.get(f"/api/organisation/members/{2**70}"),
        foreign.patch(f"/api/organisation/members/{2**70}", {"role": "admin"}, "application/json"),
        foreign.delete(f"/api/organisation/members/{2**70}"),
        foreign.delete(f"/api/organisation/invitations/{2**70}"),
    ):
        assert response.status_code == 404
    manager = _api(make_member("gus@globex.example", world.other_client_org, Role.MANAGER))
    assert manager.delete(f"/api/organisation/members/{world.client_viewer.pk}").status_code == 404


def test_every_error_status_is_declared_in_the_openapi_document(world: World):
    document = Client().get("/api/openapi.json").json()
    expected = {
        ("/api/organisation", "get"): {"200", "401"},
        ("/api/organisation/members", "get"): {"200", "401", "422"},
        ("/api/organisation/members/{member_id}", "get"): {"200", "401", "404"},
        ("/api/organisation/members/{member_id}", "patch"): {"200", "401", "403", "404", "409", "422"},
        ("/api/organisation/members/{member_id}", "delete"): {"204", "401", "403", "404", "409"},
        ("/api/organisation/invitations", "get"): {"200", "401", "403", "422"},
        ("/api/organisation/invitations", "post"): {"201", "401", "403", "409", "422"},
        ("/api/organisation/invitations/{invitation_id}", "delete"): {"204", "401", "403", "404", "409"},
    }
    for (path, method), codes in expected.items():
        # Each status these operations answer is declared (core.api adds the common ones to every operation).
        assert codes <= set(document["paths"][path][method]["responses"]), (path, method)


def test_a_protected_reference_no_port_reported_is_still_a_409(world: World, admin: Membership, monkeypatch):
    # As if a room above kept a protected reference to members but did not answer the ports.
    monkeypatch.setattr(ports.membership_removal_blockers, "_impl", lambda *, membership: [])
    _open_action(world, world.client_viewer)
    token, _ = api_token_create(membership=world.client_viewer, name="victor's script")
    response = _api(admin).delete(f"/api/organisation/members/{world.client_viewer.pk}")
    assert response.status_code == 409
    assert "action item" in response.json()["message"]
    assert Membership.objects.filter(pk=world.client_viewer.pk).exists()
    # Nothing of the removal stays: the token revoked before the delete is live again.
    token.refresh_from_db()
    assert token.revoked_at is None
    assert not _events("api_token.revoke")


def test_an_accepted_invitation_is_not_revoked(world: World, admin: Membership):
    invitation = Invitation.objects.create(
        organisation=world.client_org,
        email="old@acme.example",
        token_hash="accepted",
        expires_at=timezone.now() + timedelta(days=7),
        accepted_at=timezone.now(),
    )
    response = _api(admin).delete(f"/api/organisation/invitations/{invitation.pk}")
    assert response.status_code == 409
    assert "remove the member instead" in response.json()["message"]
    assert Invitation.objects.filter(pk=invitation.pk).exists()
