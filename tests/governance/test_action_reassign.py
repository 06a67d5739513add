"""Reassigning an open action: to a member of either party, audited as action.owner_transfer, the new owner told.

The removal of a member who still owns open actions is refused (docs/accounts.md); reassigning them
is what lets it go ahead.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pactboard.accounts.models import Membership, Role
from pactboard.accounts.services import membership_remove
from pactboard.audit.models import AuditEvent
from pactboard.core.errors import PactboardError
from pactboard.governance import services
from pactboard.governance.action_owners import action_reassign
from pactboard.governance.models import ActionItem, Notification
from tests.conftest import World, api_client, client_for, make_member

pytestmark = pytest.mark.django_db


def _post(c: Client, path: str, body: dict) -> object:
    return c.post(path, data=json.dumps(body), content_type="application/json")


def _action(world: World, owner: Membership, engagement=None) -> ActionItem:
    now = timezone.now()
    return services.action_create(
        actor=world.client_manager if engagement is None else world.outsider,
        engagement=engagement or world.engagement,
        title="Send the QA backlog plan",
        owner_id=owner.pk,
        due_date=(now + timedelta(days=14)).date(),
        now=now,
    )


def _transfers() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="action.owner_transfer").order_by("id"))


# --- service --------------------------------------------------------------------------------------


def test_a_manager_hands_an_open_action_to_a_member_of_the_other_party(world: World):
    action = _action(world, world.client_viewer)
    done = action_reassign(action=action, new_owner=world.provider_manager, by=world.client_manager, now=timezone.now())
    assert done.owner_id == world.provider_manager.pk
    action.refresh_from_db()
    assert action.owner_id == world.provider_manager.pk
    [event] = _transfers()
    # The same shape as the hand-over of closed actions on a member's removal (membership_holds).
    assert (event.before, event.after) == ({"owner": "victor@acme.example"}, {"owner": "pedro@helpline.example"})
    assert event.engagement_id == world.engagement.pk
    assert event.actor_email == world.client_manager.user.email
    [note] = Notification.objects.filter(recipient=world.provider_manager, kind="action.assigned")
    assert note.title == "Action for you: Send the QA backlog plan"
    assert note.url == reverse("governance:action", args=[world.engagement.pk, action.pk])


def test_handing_it_to_its_owner_changes_nothing(world: World):
    action = _action(world, world.client_viewer)
    action_reassign(action=action, new_owner=world.client_viewer.pk, by=world.client_manager, now=timezone.now())
    assert not _transfers()


def test_a_new_owner_outside_the_engagement_is_refused_at_the_field(world: World):
    action = _action(world, world.client_viewer)
    for stranger in (world.outsider.pk, world.other_provider_manager.pk, 2**70, 0):
        with pytest.raises(PactboardError) as refused:
            action_reassign(action=action, new_owner=stranger, by=world.client_manager, now=timezone.now())
        assert refused.value.kind == "invalid"
        [detail] = refused.value.details
        assert detail.location == "owner_membership_id"
        assert "member of the client or the provider" in detail.message
    action.refresh_from_db()
    assert action.owner_id == world.client_viewer.pk
    assert not _transfers()


def test_who_may_reassign(world: World):
    action = _action(world, world.client_viewer)
    viewer = make_member("vera@helpline.example", world.provider_org, Role.VIEWER)
    with pytest.raises(PactboardError) as refused:
        action_reassign(action=action, new_owner=world.provider_manager, by=viewer, now=timezone.now())
    assert refused.value.kind == "forbidden"
    with pytest.raises(PactboardError) as refused:
        action_reassign(action=action, new_owner=world.outsider, by=world.outsider, now=timezone.now())
    assert refused.value.kind == "not_found"
    # The owner (a viewer) may hand over their own action.
    action_reassign(action=action, new_owner=world.provider_manager, by=world.client_viewer, now=timezone.now())
    assert ActionItem.objects.get(pk=action.pk).owner_id == world.provider_manager.pk


def test_a_closed_action_keeps_its_owner(world: World):
    action = _action(world, world.client_viewer)
    services.action_status_set(actor=world.client_manager, action=action, status="done", now=timezone.now())
    with pytest.raises(PactboardError) as refused:
        action_reassign(action=action, new_owner=world.provider_manager, by=world.client_manager, now=timezone.now())
    assert refused.value.kind == "conflict"
    assert "only an open action is reassigned" in refused.value.message


def test_reassigning_lets_the_removal_go_ahead(world: World):
    admin = make_member("ada@acme.example", world.client_org, Role.ADMIN)
    action = _action(world, world.client_viewer)
    with pytest.raises(PactboardError) as refused:
        membership_remove(actor=admin, member_id=world.client_viewer.pk)
    assert refused.value.kind == "conflict"
    assert "reassign each to another member of its engagement first" in refused.value.message
    assert "…/actions/A/reassign" in refused.value.message
    [detail] = refused.value.details
    assert detail.location == f"engagement {world.engagement.pk}, action {action.pk}"
    action_reassign(action=action, new_owner=world.client_manager, by=admin, now=timezone.now())
    membership_remove(actor=admin, member_id=world.client_viewer.pk)
    assert not Membership.objects.filter(pk=world.client_viewer.pk).exists()


# --- page -----------------------------------------------------------------------------------------


def test_the_action_page_has_a_reassign_control_and_keeps_its_query_count(world: World, django_assert_max_num_queries):
    action = _action(world, world.client_viewer)
    page = client_for(world.client_manager)
    url = reverse("governance:action", args=[world.engagement.pk, action.pk])
    with django_assert_max_num_queries(15) as one:
        shown = page.get(url)
    assert shown.status_code == 200
    assert reverse("governance:action_reassign", args=[world.engagement.pk, action.pk]) in shown.text
    assert 'name="owner_membership_id"' in shown.text
    for n in range(8):  # more people to choose from: not more queries
        make_member(f"p{n}@helpline.example", world.provider_org, Role.CONTRIBUTOR)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert page.get(url).status_code == 200
    # A viewer who does not own it sees no control.
    viewer = make_member("vera@helpline.example", world.provider_org, Role.VIEWER)
    assert 'name="owner_membership_id"' not in client_for(viewer).get(url).text


def _field_error(html: str) -> str:
    """The text of the error shown at the new-owner field ("" when there is none)."""
    found = re.search(r'<p class="error" id="id_owner_membership_id_error" role="alert">(.*?)</p>', html)
    return found.group(1) if found else ""


def test_the_page_refuses_an_owner_outside_both_parties_with_the_rule(world: World):
    action = _action(world, world.client_viewer)
    gone = make_member("gus@helpline.example", world.provider_org, Role.CONTRIBUTOR)
    gone_id = gone.pk
    gone.delete()  # a member since removed: the page offered them, the POST comes after
    page = client_for(world.client_manager)
    post = reverse("governance:action_reassign", args=[world.engagement.pk, action.pk])
    events = AuditEvent.objects.count()
    # Another tenant's member (Globex's), a removed member, an id nobody has, and not a number at all.
    for stranger in (world.outsider.pk, world.other_provider_manager.pk, gone_id, 2**70, "abc", ""):
        bad = page.post(post, {"owner_membership_id": str(stranger)})
        assert bad.status_code == 422
        assert "Select a valid choice" not in bad.text
        # At the field, the service's rule in its words: who may own an action and what to do.
        assert _field_error(bad.text) == (
            "The new owner must be a member of the client or the provider of this engagement: "
            "pick one of their members."
        ), stranger
        # Nothing about the stranger: not their name, not whether the id is someone elsewhere.
        assert world.outsider.user.email not in bad.text
        assert "Globex" not in bad.text
    action.refresh_from_db()
    assert action.owner_id == world.client_viewer.pk
    assert AuditEvent.objects.count() == events
    assert not Notification.objects.filter(kind="action.assigned").exclude(recipient=world.client_viewer).exists()


def test_the_page_does_not_offer_the_owner_and_says_so_when_a_stale_form_picks_them(world: World):
    action = _action(world, world.client_viewer)
    page = client_for(world.client_manager)
    shown = page.get(reverse("governance:action", args=[world.engagement.pk, action.pk])).text
    assert f'<option value="{world.provider_manager.pk}">' in shown
    assert f'<option value="{world.client_viewer.pk}">' not in shown
    events = AuditEvent.objects.count()
    post = reverse("governance:action_reassign", args=[world.engagement.pk, action.pk])
    stale = page.post(post, {"owner_membership_id": str(world.client_viewer.pk)})
    assert stale.status_code == 422
    assert _field_error(stale.text) == "Victor already owns this action: pick another member."
    assert AuditEvent.objects.count() == events
    assert ActionItem.objects.get(pk=action.pk).owner_id == world.client_viewer.pk


def test_the_page_reassigns_and_refuses_a_stranger(world: World):
    action = _action(world, world.client_viewer)
    page = client_for(world.client_manager)
    post = reverse("governance:action_reassign", args=[world.engagement.pk, action.pk])
    bad = page.post(post, {"owner_membership_id": str(world.outsider.pk)})
    assert bad.status_code == 422
    assert "must be a member of the client or the provider" in _field_error(bad.text)
    done = page.post(post, {"owner_membership_id": str(world.provider_manager.pk)})
    assert done.status_code == 302
    assert ActionItem.objects.get(pk=action.pk).owner_id == world.provider_manager.pk
    assert client_for(world.outsider).post(post, {"owner_membership_id": str(world.outsider.pk)}).status_code == 404


# --- API ------------------------------------------------------------------------------------------


def test_api_names_an_owner_outside_both_parties_with_a_code_and_the_same_body_for_any_stranger(world: World):
    action = _action(world, world.client_viewer)
    path = f"/api/engagements/{world.engagement.pk}/actions/{action.pk}/reassign"
    manager = api_client(world.client_manager)
    bodies = []
    # Another tenant's member, an id nobody has, one past the column's range: one answer for all three.
    for stranger in (world.outsider.pk, 987_654, 2**70):
        refused = _post(manager, path, {"owner_membership_id": stranger})
        assert refused.status_code == 422
        bodies.append(refused.json())
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["kind"] == "invalid"
    assert bodies[0]["details"] == [
        {
            "message": "The new owner must be a member of the client or the provider of this engagement: "
            "pick one of their members.",
            "location": "owner_membership_id",
            "code": "not_a_member",
        }
    ]
    # Not a number: ninja's validation, whose code is pydantic's type (never null).
    [detail] = _post(manager, path, {"owner_membership_id": "abc"}).json()["details"]
    assert (detail["location"], detail["code"]) == ("owner_membership_id", "int_parsing")
    assert ActionItem.objects.get(pk=action.pk).owner_id == world.client_viewer.pk
    assert not _transfers()


def test_api_reassigns(world: World):
    action = _action(world, world.client_viewer)
    path = f"/api/engagements/{world.engagement.pk}/actions/{action.pk}/reassign"
    response = _post(api_client(world.client_manager), path, {"owner_membership_id": world.provider_manager.pk})
    assert response.status_code == 200
    assert response.json()["owner_email"] == "pedro@helpline.example"
    assert response.json()["owner_organisation"] == "Helpline BPO"


def test_api_refusals(world: World):
    action = _action(world, world.client_viewer)
    path = f"/api/engagements/{world.engagement.pk}/actions/{action.pk}/reassign"
    stranger = _post(api_client(world.client_manager), path, {"owner_membership_id": world.outsider.pk})
    assert stranger.status_code == 422
    assert stranger.json()["details"][0]["location"] == "owner_membership_id"
    assert stranger.json()["details"][0]["code"] == "not_a_member"
    viewer = make_member("vera@helpline.example", world.provider_org, Role.VIEWER)
    assert _post(api_client(viewer), path, {"owner_membership_id": world.provider_manager.pk}).status_code == 403
    # Cross-tenant: the outsider neither sees the action nor can hand it to themselves.
    assert _post(api_client(world.outsider), path, {"owner_membership_id": world.outsider.pk}).status_code == 404
    # Nor can Acme's manager reach Globex's action through Acme's engagement or Globex's.
    theirs = _action(world, world.outsider, engagement=world.other_engagement)
    manager = api_client(world.client_manager)
    for e in (world.engagement.pk, world.other_engagement.pk):
        other = f"/api/engagements/{e}/actions/{theirs.pk}/reassign"
        assert _post(manager, other, {"owner_membership_id": world.client_manager.pk}).status_code == 404
    services.action_status_set(actor=world.client_manager, action=action, status="cancelled", now=timezone.now())
    closed = _post(api_client(world.client_manager), path, {"owner_membership_id": world.provider_manager.pk})
    assert closed.status_code == 409
    assert ActionItem.objects.get(pk=action.pk).owner_id == world.client_viewer.pk
    assert ActionItem.objects.get(pk=theirs.pk).owner_id == world.outsider.pk
