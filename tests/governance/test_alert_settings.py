"""Alert settings: the client's administrators and managers change the thresholds; bounds name field and fix.

Bounds (docs/governance.md, "Alerts"): chronic_after 1-24 missed periods, grace_days 0-90 days,
review_notice_days 1-30 days. Defaults (no row): 3, 5, 3.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pactboard.accounts.models import Role
from pactboard.audit.models import AuditEvent
from pactboard.core.errors import PactboardError
from pactboard.governance.alert_settings import alert_settings_check, alert_settings_update, alert_settings_values
from pactboard.governance.alerts import alert_thresholds
from pactboard.governance.models import Alert, AlertSettings
from tests.conftest import World, api_client, client_for, make_member

pytestmark = pytest.mark.django_db


def _patch(c: Client, path: str, body: dict) -> object:
    return c.patch(path, data=json.dumps(body), content_type="application/json")


# --- service --------------------------------------------------------------------------------------


def test_a_client_manager_changes_one_threshold_and_the_scan_reads_it(world: World):
    assert alert_settings_values(engagement=world.engagement) == {
        "chronic_after": 3,
        "grace_days": 5,
        "review_notice_days": 3,
    }
    alert_settings_update(actor=world.client_manager, engagement=world.engagement, chronic_after=2)
    # Only chronic_after moves; the others keep the defaults; the scan's reader sees the row.
    assert alert_thresholds(engagement=world.engagement) == (2, 5, 3)
    [event] = AuditEvent.objects.filter(action="alert.settings")
    assert event.engagement_id == world.engagement.pk
    assert event.actor_email == world.client_manager.user.email
    assert event.before == {"chronic_after": 3, "grace_days": 5, "review_notice_days": 3}
    assert event.after == {"chronic_after": 2, "grace_days": 5, "review_notice_days": 3}


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("chronic_after", 0, "between 1 and 24"),
        ("chronic_after", 25, "between 1 and 24"),
        ("grace_days", -1, "between 0 and 90"),
        ("grace_days", 91, "between 0 and 90"),
        ("review_notice_days", 0, "between 1 and 30"),
        ("review_notice_days", 31, "between 1 and 30"),
        ("review_notice_days", 2**70, "between 1 and 30"),
    ],
)
def test_a_value_out_of_bounds_is_refused_at_its_field(world: World, field: str, value: int, words: str):
    with pytest.raises(PactboardError) as refused:
        alert_settings_update(actor=world.client_manager, engagement=world.engagement, **{field: value})
    assert refused.value.kind == "invalid"
    [detail] = refused.value.details
    assert detail.location == field
    assert words in detail.message
    assert detail.code == "out_of_range"
    assert not AlertSettings.objects.exists()
    assert not AuditEvent.objects.filter(action="alert.settings").exists()


def test_the_bounds_themselves_are_accepted(world: World):
    alert_settings_update(
        actor=world.client_manager, engagement=world.engagement, chronic_after=24, grace_days=0, review_notice_days=1
    )
    assert alert_thresholds(engagement=world.engagement) == (24, 0, 1)


def test_every_bad_field_is_named_at_once(world: World):
    with pytest.raises(PactboardError) as refused:
        alert_settings_update(actor=world.client_manager, engagement=world.engagement, chronic_after=0, grace_days=100)
    assert [(d.location, d.code) for d in refused.value.details] == [
        ("chronic_after", "out_of_range"),
        ("grace_days", "out_of_range"),
    ]


def test_each_problem_has_its_code():
    # A value that is no whole number (a bool is not one either) and a name that is no setting.
    problems = alert_settings_check({"chronic_after": 2.5, "grace_days": True, "review_notice_days": "3", "x": 1})
    assert [(d.location, d.code) for d in problems] == [
        ("chronic_after", "not_integer"),
        ("grace_days", "not_integer"),
        ("review_notice_days", "not_integer"),
        ("x", "unknown_setting"),
    ]


def test_who_may_change_the_settings(world: World):
    client_admin = make_member("ada@acme.example", world.client_org, Role.ADMIN)
    client_contributor = make_member("cy@acme.example", world.client_org, Role.CONTRIBUTOR)
    alert_settings_update(actor=client_admin, engagement=world.engagement, grace_days=7)
    # The provider's manager is measured by these thresholds: a 403 that says who sets them.
    for actor in (world.provider_manager, client_contributor, world.client_viewer):
        with pytest.raises(PactboardError) as refused:
            alert_settings_update(actor=actor, engagement=world.engagement, grace_days=30)
        assert refused.value.kind == "forbidden"
        assert "client's administrators and managers" in refused.value.message
    # An outsider is told nothing exists.
    with pytest.raises(PactboardError) as refused:
        alert_settings_update(actor=world.outsider, engagement=world.engagement, grace_days=30)
    assert refused.value.kind == "not_found"
    assert alert_thresholds(engagement=world.engagement) == (3, 7, 3)


# --- pages ----------------------------------------------------------------------------------------


def test_the_alerts_page_links_to_the_settings_and_keeps_its_query_count(world: World, django_assert_max_num_queries):
    page = client_for(world.client_manager)
    url = reverse("governance:alerts", args=[world.engagement.pk])
    now = timezone.now()
    Alert.objects.create(engagement=world.engagement, kind="breach", cause_key="breach:k0:2026-10", raised_at=now)
    with django_assert_max_num_queries(12) as one:
        first = page.get(url)
    assert first.status_code == 200
    assert reverse("governance:alert_settings", args=[world.engagement.pk]) in first.text
    assert "Change alert settings" in first.text
    for n in range(1, 20):
        Alert.objects.create(
            engagement=world.engagement, kind="late", cause_key=f"late:k{n}:2026-10", kpi_code=f"k{n}", raised_at=now
        )
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert page.get(url).status_code == 200
    # The engagement page links to the alerts page.
    assert url in page.get(reverse("engagements:detail", args=[world.engagement.pk])).text


def test_the_settings_page_saves_and_shows_field_errors(world: World, django_assert_max_num_queries):
    page = client_for(world.client_manager)
    url = reverse("governance:alert_settings", args=[world.engagement.pk])
    with django_assert_max_num_queries(12):
        shown = page.get(url)
    assert shown.status_code == 200
    assert 'name="chronic_after"' in shown.text
    assert 'value="3"' in shown.text
    bad = page.post(url, {"chronic_after": "0", "grace_days": "5", "review_notice_days": "abc"})
    assert bad.status_code == 422
    assert "Enter a whole number." in bad.text  # the form's own check, at review_notice_days
    bad = page.post(url, {"chronic_after": "0", "grace_days": "5", "review_notice_days": "3"})
    assert bad.status_code == 422
    assert "0 is out of range: set the missed periods in a row that make a KPI chronic between 1 and 24." in bad.text
    assert not AlertSettings.objects.exists()
    done = page.post(url, {"chronic_after": "4", "grace_days": "10", "review_notice_days": "2"})
    assert done.status_code == 302
    assert done["Location"] == reverse("governance:alerts", args=[world.engagement.pk])
    assert alert_thresholds(engagement=world.engagement) == (4, 10, 2)


def test_the_provider_reads_the_settings_but_may_not_post_them(world: World):
    page = client_for(world.provider_manager)
    url = reverse("governance:alert_settings", args=[world.engagement.pk])
    shown = page.get(url)
    assert shown.status_code == 200
    assert 'name="chronic_after"' not in shown.text
    assert "Only the client&#x27;s administrators and managers" in shown.text
    assert page.post(url, {"chronic_after": "9", "grace_days": "5", "review_notice_days": "3"}).status_code == 403
    assert not AlertSettings.objects.exists()


def test_an_outsider_gets_404_on_the_pages(world: World):
    page = client_for(world.outsider)
    for name in ("governance:alerts", "governance:alert_settings"):
        assert page.get(reverse(name, args=[world.engagement.pk])).status_code == 404
    post = page.post(
        reverse("governance:alert_settings", args=[world.engagement.pk]),
        {"chronic_after": "9", "grace_days": "5", "review_notice_days": "3"},
    )
    assert post.status_code == 404


# --- API ------------------------------------------------------------------------------------------


def test_api_reads_and_patches_the_settings(world: World):
    path = f"/api/engagements/{world.engagement.pk}/alert-settings"
    manager = api_client(world.client_manager)
    assert manager.get(path).json() == {"chronic_after": 3, "grace_days": 5, "review_notice_days": 3}
    changed = _patch(manager, path, {"review_notice_days": 7})
    assert changed.status_code == 200
    assert changed.json() == {"chronic_after": 3, "grace_days": 5, "review_notice_days": 7}
    assert api_client(world.provider_manager).get(path).json()["review_notice_days"] == 7


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Bounds (module docstring): one step past each end of each field.
        ({"chronic_after": 0}, [("chronic_after", "out_of_range")]),
        ({"chronic_after": 25}, [("chronic_after", "out_of_range")]),
        ({"grace_days": -1}, [("grace_days", "out_of_range")]),
        ({"grace_days": 91}, [("grace_days", "out_of_range")]),
        ({"review_notice_days": 0}, [("review_notice_days", "out_of_range")]),
        ({"review_notice_days": 31}, [("review_notice_days", "out_of_range")]),
        # Every field wrong at once: each named, each with its code.
        (
            {"chronic_after": 99, "grace_days": 999, "review_notice_days": -5},
            [
                ("chronic_after", "out_of_range"),
                ("grace_days", "out_of_range"),
                ("review_notice_days", "out_of_range"),
            ],
        ),
        # Not a number at all: ninja's validation, whose code is pydantic's type.
        ({"chronic_after": "many"}, [("chronic_after", "int_parsing")]),
        ({"grace_days": 2.5}, [("grace_days", "int_from_float")]),
    ],
)
def test_api_field_errors_carry_a_code(world: World, body: dict, expected: list[tuple[str, str]]):
    path = f"/api/engagements/{world.engagement.pk}/alert-settings"
    refused = _patch(api_client(world.client_manager), path, body)
    assert refused.status_code == 422
    assert refused.json()["kind"] == "invalid"
    assert [(d["location"], d["code"]) for d in refused.json()["details"]] == expected
    assert not AlertSettings.objects.exists()
    assert not AuditEvent.objects.filter(action="alert.settings").exists()


def test_api_refusals(world: World):
    path = f"/api/engagements/{world.engagement.pk}/alert-settings"
    forbidden = _patch(api_client(world.provider_manager), path, {"grace_days": 60})
    assert forbidden.status_code == 403
    assert "client's administrators and managers" in forbidden.json()["message"]
    invalid = _patch(api_client(world.client_manager), path, {"grace_days": 91})
    assert invalid.status_code == 422
    [detail] = invalid.json()["details"]
    assert detail["location"] == "grace_days"
    assert "between 0 and 90" in detail["message"]
    assert detail["code"] == "out_of_range"
    outsider = api_client(world.outsider)
    assert outsider.get(path).status_code == 404
    assert _patch(outsider, path, {"grace_days": 6}).status_code == 404
    other = f"/api/engagements/{world.other_engagement.pk}/alert-settings"
    assert api_client(world.client_manager).get(other).status_code == 404
    assert not AlertSettings.objects.exists()
