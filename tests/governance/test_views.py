"""Governance pages: both parties see one meeting, an outsider gets 404 everywhere, lists keep their query count."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse
from django.utils import timezone

from pactboard.governance import collaboration, relevance, services
from pactboard.governance.models import ActionItem, Meeting, Notification
from pactboard.governance.urls import urlpatterns
from pactboard.governance.webhooks import webhook_create
from tests.conftest import World, client_for, make_engagement
from tests.governance.conftest import OCTOBER

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(gov: World) -> Meeting:
    """The next review, a week from now (the pages read the real clock)."""
    return Meeting.objects.create(
        engagement=gov.engagement, title="December review", starts_at=timezone.now() + timedelta(days=7)
    )


def _action(gov: World, meeting: Meeting | None, title: str, due: date) -> ActionItem:
    return services.action_create(
        actor=gov.client_manager,
        engagement=gov.engagement,
        meeting=meeting,
        title=title,
        owner_id=gov.provider_manager.pk,
        due_date=due,
        now=timezone.now(),
    )


def test_both_parties_see_the_same_meeting_and_its_agenda(gov: World, meeting: Meeting):
    _action(gov, None, "Staff the evening shift", timezone.localdate() - timedelta(days=3))
    url = reverse("governance:meeting", args=[gov.engagement.pk, meeting.pk])
    pages = [client_for(m).get(url) for m in (gov.client_manager, gov.provider_manager, gov.client_viewer)]
    assert [p.status_code for p in pages] == [200, 200, 200]
    for page in pages:
        assert "KPI 00: at risk in 2026-10" in page.text
        assert "KPI 01: missed in 2026-10" in page.text
        assert "Staff the evening shift" in page.text
        assert "Overdue" in page.text
    assert "Record action" in pages[0].text
    assert "Record action" not in pages[2].text  # the viewer reads


def test_recording_an_action_notifies_the_owner(gov: World, meeting: Meeting):
    url = reverse("governance:meeting_action", args=[gov.engagement.pk, meeting.pk])
    response = client_for(gov.client_manager).post(
        url,
        {"title": "Share the routing plan", "owner": gov.provider_manager.pk, "due_date": "2026-12-20", "kpi_code": ""},
    )
    assert response.status_code == 302
    provider = client_for(gov.provider_manager)
    actions = provider.get(reverse("governance:actions"))
    assert "Share the routing plan" in actions.text
    centre = provider.get(reverse("governance:notifications"))
    assert "Action for you: Share the routing plan" in centre.text
    badge = provider.get(reverse("governance:notifications_badge"))
    assert re.search(r'data-testid="unread-count"[^>]*>1<', badge.text)
    note = Notification.objects.for_recipient(gov.provider_manager).get()
    opened = provider.get(reverse("governance:notification", args=[note.pk]))
    assert opened["Location"] == reverse("governance:action", args=[gov.engagement.pk, note.cause_key.split(":")[1]])
    note.refresh_from_db()
    assert note.read_at is not None
    # The client's own Actions page lists its organisation's actions only.
    assert "Share the routing plan" not in client_for(gov.client_manager).get(reverse("governance:actions")).text


def test_a_bad_action_is_shown_at_its_field(gov: World, meeting: Meeting):
    url = reverse("governance:meeting_action", args=[gov.engagement.pk, meeting.pk])
    response = client_for(gov.client_manager).post(url, {"title": "x", "owner": gov.outsider.pk, "due_date": "soon"})
    assert response.status_code == 422
    assert not ActionItem.objects.exists()
    # Another tenant's member is refused with the rule, not Django's "Select a valid choice".
    form = response.context["action_form"]
    assert form.errors["owner"] == [
        "The owner must be a member of the client or the provider of this engagement: pick one of their members."
    ]
    assert "due_date" in form.errors


def test_feedback_section_and_tile_marker(gov: World):
    thread = services.feedback_thread_start(
        actor=gov.client_manager,
        engagement=gov.engagement,
        kpi_code="kpi_01",
        period=OCTOBER,
        title="Why did kpi_01 jump?",
        body="Please explain.",
        now=timezone.now(),
    )
    c = client_for(gov.provider_manager)
    kpi_page = c.get(reverse("dashboards:kpi", args=[gov.engagement.pk, "kpi_01"]))
    assert "Why did kpi_01 jump?" in kpi_page.text
    spec = json.loads(re.search(r'id="kpi-chart-spec"[^>]*>(.*?)</script>', kpi_page.text, flags=re.S).group(1))
    # The marker rings the October value (30) on the chart.
    assert [(f["period"], f["y"]) for f in spec["datasets"]["feedback"]] == [("2026-10", 30.0)]
    dashboard = c.get(reverse("dashboards:engagement", args=[gov.engagement.pk]) + "?period=2026-10")
    tile = re.search(r'data-kpi="kpi_01".*?</li>', dashboard.text, flags=re.S)
    assert tile is not None
    assert 'data-testid="tile-feedback"' in tile.group(0)
    other = re.search(r'data-kpi="kpi_00".*?</li>', dashboard.text, flags=re.S)
    assert other is not None
    assert 'data-testid="tile-feedback"' not in other.group(0)
    services.feedback_thread_resolve(actor=gov.client_manager, thread=thread, resolved=True, now=timezone.now())
    dashboard = c.get(reverse("dashboards:engagement", args=[gov.engagement.pk]) + "?period=2026-10")
    assert 'data-testid="tile-feedback"' not in dashboard.text


def _urls(gov: World, meeting: Meeting) -> list[tuple[str, str]]:
    action = _action(gov, meeting, "Staff", date(2026, 12, 1))
    thread = services.feedback_thread_start(
        actor=gov.client_manager,
        engagement=gov.engagement,
        kpi_code="kpi_00",
        period=OCTOBER,
        title="t",
        body="b",
        now=timezone.now(),
    )
    note = Notification.objects.for_recipient(gov.provider_manager).first()
    assert note is not None
    webhook = webhook_create(
        actor=gov.client_manager, engagement=gov.engagement, url="https://hooks.example.com/x", now=timezone.now()
    )
    ids = {
        "pk": gov.engagement.pk,
        "meeting_id": meeting.pk,
        "action_id": action.pk,
        "thread_id": thread.pk,
        "notification_id": note.pk,
        "webhook_id": webhook.pk,
    }
    review, _ = relevance.relevance_review_open(actor=gov.client_manager, engagement=gov.engagement, now=timezone.now())
    first_item = review.items.first()
    assert first_item is not None
    ids |= {"review_id": review.pk, "item_id": first_item.pk}
    # Collaboration routes (F18): a draft strategy note and an article.
    ids["note_id"] = collaboration.note_create(
        actor=gov.client_manager, engagement=gov.engagement, title="Plan", body="x", share=False, now=timezone.now()
    ).pk
    ids["article_id"] = collaboration.article_create(
        actor=gov.provider_manager, engagement=gov.engagement, kind="lesson", title="L", body="x", tags=""
    ).pk
    out = []
    for p in urlpatterns:
        assert isinstance(p, URLPattern)
        names = list(p.pattern.regex.groupindex)
        if not set(names) - {"token"} or "token" in names:
            continue  # organisation-level lists and the unsubscribe link are checked separately
        url = reverse(f"governance:{p.name}", kwargs={n: ids[n] for n in names})
        out += [("get", url), ("post", url)]
    return out


def test_outsider_gets_404_on_every_governance_route(gov: World, meeting: Meeting):
    urls = _urls(gov, meeting)
    assert len(urls) >= 2 * 13
    outsider = client_for(gov.outsider)
    per_url: dict[str, set[int]] = {}
    for method, url in urls:
        per_url.setdefault(url, set()).add(getattr(outsider, method)(url).status_code)
    # Every route answers 404 to the methods it serves (405 only where the method is not allowed at all).
    assert all(codes in ({404}, {404, 405}) for codes in per_url.values()), per_url
    # Organisation-level pages show the outsider nothing of ours.
    assert "Staff" not in outsider.get(reverse("governance:actions")).text
    assert "Action for you" not in outsider.get(reverse("governance:notifications")).text
    # Nothing changed.
    assert Meeting.objects.get(pk=meeting.pk).minutes == ""
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def _count(c, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert c.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_lists_keep_their_query_count(gov: World, meeting: Meeting):
    c = client_for(gov.provider_manager)
    second = make_engagement(gov.client_org, gov.provider_org, "Acme chat")
    urls = [
        reverse("governance:actions"),
        reverse("governance:notifications"),
        reverse("governance:reviews", args=[gov.engagement.pk]),
        reverse("governance:meeting", args=[gov.engagement.pk, meeting.pk]),
    ]
    c.get(urls[0])  # warm the session
    _action(gov, meeting, "one", date(2026, 12, 1))
    before = [_count(c, u) for u in urls]
    for i in range(6):
        _action(gov, meeting, f"more {i}", date(2026, 12, 1) + timedelta(days=i))
        services.action_create(
            actor=gov.client_manager,
            engagement=second,
            title=f"chat {i}",
            owner_id=gov.provider_manager.pk,
            due_date=date(2026, 12, 1),
            now=timezone.now(),
        )
        Meeting.objects.create(
            engagement=gov.engagement, title=f"m{i}", starts_at=timezone.now() + timedelta(days=40 + i)
        )
    after = [_count(c, u) for u in urls]
    assert after == before
