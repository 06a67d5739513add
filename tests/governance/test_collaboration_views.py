"""Collaboration pages: strategy notes, knowledge base and wins, as each party sees them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from pactboard.governance import collaboration as c
from pactboard.governance.collaboration_models import Article, StrategyNote, Win
from pactboard.governance.wins import kudos_post
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def test_engagement_page_links_the_collaboration_pages(world: World):
    html = client_for(world.provider_manager).get(reverse("engagements:detail", args=[world.engagement.pk])).content
    for name in ("strategy", "knowledge", "wins"):
        assert reverse(f"governance:{name}", args=[world.engagement.pk]).encode() in html


def test_client_drafts_then_shares_a_note_that_renders_safely(world: World):
    client, provider = client_for(world.client_manager), client_for(world.provider_manager)
    url = reverse("governance:strategy", args=[world.engagement.pk])
    body = "## Growth\n\nWe want **FCR** up.<script>alert('x')</script> [bad](javascript:alert(1))"
    response = client.post(url, {"title": "2027", "body": body})
    note = StrategyNote.objects.get()
    assert response.status_code == 302
    assert not note.is_shared
    note_url = reverse("governance:strategy_note", args=[world.engagement.pk, note.pk])
    assert provider.get(note_url).status_code == 404  # a draft does not exist for the provider
    assert b"2027" not in provider.get(url).content
    page = client.get(note_url).content.decode()
    assert "<h2>Growth</h2>" in page
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page
    assert 'href="javascript:' not in page.lower()
    # The provider may not write or share; the client manager shares.
    assert provider.post(url, {"title": "Mine", "body": "x"}).status_code == 403
    share = reverse("governance:strategy_note_share", args=[world.engagement.pk, note.pk])
    assert client.post(share, {"shared": "1"}).status_code == 302
    assert provider.get(note_url).status_code == 200
    assert provider.post(share, {"shared": "0"}).status_code == 403
    assert b"2027" in provider.get(url).content


def test_note_form_errors_are_shown(world: World):
    response = client_for(world.client_manager).post(
        reverse("governance:strategy", args=[world.engagement.pk]), {"title": "x", "body": "   "}
    )
    assert response.status_code == 422
    assert not StrategyNote.objects.exists()


def _article(world: World, i: int) -> Article:
    actor = world.client_manager if i % 2 else world.provider_manager
    return c.article_create(
        actor=actor, engagement=world.engagement, kind="practice", title=f"Practice {i}", body=f"Body {i}",
        tags=f"tag{i % 3}, shared",
    )  # fmt: skip


def test_knowledge_base_search_and_tag_with_flat_query_count(world: World, django_assert_max_num_queries):
    viewer = client_for(world.client_viewer)
    url = reverse("governance:knowledge", args=[world.engagement.pk])
    _article(world, 0)
    with django_assert_max_num_queries(12) as one:
        assert viewer.get(url).status_code == 200
    for i in range(1, 12):
        _article(world, i)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = viewer.get(url, {"q": "practice", "tag": "tag1"}).content.decode()
    # Articles 1, 4, 7, 10 carry tag1 (i % 3 == 1).
    assert page.count('data-testid="article"') == 4
    assert "Helpline BPO, provider" in page
    assert "Acme Retail, client" in page
    assert viewer.get(url, {"q": "Body 10"}).content.decode().count('data-testid="article"') == 1
    # The viewer reads but gets no form; a POST is refused.
    assert "New article" not in page
    assert viewer.post(url, {"kind": "practice", "title": "x", "body": "y"}).status_code == 403


def test_articles_are_written_and_edited_through_the_pages(world: World):
    provider = client_for(world.provider_manager)
    url = reverse("governance:knowledge", args=[world.engagement.pk])
    response = provider.post(url, {"kind": "lesson", "title": "Peak", "body": "Plan *early*", "tags": "Peak, Planning"})
    article = Article.objects.get()
    assert response.status_code == 302
    assert article.tags == ",peak,planning,"
    detail = reverse("governance:article", args=[world.engagement.pk, article.pk])
    assert "<em>early</em>" in provider.get(detail).content.decode()
    assert provider.post(detail, {"kind": "lesson", "title": "Peak v2", "body": "x", "tags": ""}).status_code == 302
    # The client reads it but may not edit the provider's article.
    client = client_for(world.client_manager)
    assert b"Peak v2" in client.get(detail).content
    assert client.post(detail, {"kind": "lesson", "title": "Ours", "body": "x", "tags": ""}).status_code == 403


def test_wins_page_shows_the_feed_and_takes_kudos(world: World, django_assert_max_num_queries):
    from tests.dashboards.conftest import agree_kpis

    agree_kpis(world, world.engagement, 2)
    provider = client_for(world.provider_manager)
    url = reverse("governance:wins", args=[world.engagement.pk])
    kudos_post(actor=world.client_manager, engagement=world.engagement, kpi_code="kpi_00", period="2026-10",
               message="First", now=NOW)  # fmt: skip
    with django_assert_max_num_queries(20) as one:
        assert provider.get(url).status_code == 200
    for i in range(10):
        Win.objects.create(
            engagement=world.engagement, kind="stretch", cause_key=f"stretch:kpi_00:x{i}", kpi_code="kpi_00",
            period="2026-09", message=f"Beat it {i}", posted_at=NOW,
        )  # fmt: skip
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = provider.get(url).content.decode()
    assert page.count('data-testid="win"') == 11
    assert "Carla (Acme Retail, client)" in page
    response = provider.post(url, {"kpi_code": "kpi_01", "period": "2026-10", "message": "Thanks for the data!"})
    assert response.status_code == 302
    assert Win.objects.filter(kind="kudos", author_org=world.provider_org).count() == 1
    bad = provider.post(url, {"kpi_code": "kpi_01", "period": "2030-01", "message": "Too early"})
    assert bad.status_code == 422
    assert "not a closed period" in bad.content.decode()
    assert (
        client_for(world.client_viewer)
        .post(url, {"kpi_code": "kpi_01", "period": "2026-10", "message": "x"})
        .status_code
        == 403
    )


def test_strategy_page_query_count_does_not_grow_with_the_notes(world: World, django_assert_max_num_queries):
    provider = client_for(world.provider_manager)
    url = reverse("governance:strategy", args=[world.engagement.pk])

    def note(i: int) -> None:
        c.note_create(
            actor=world.client_manager, engagement=world.engagement, title=f"Note {i}", body=f"*{i}*", share=True,
            now=NOW,
        )  # fmt: skip

    note(0)
    with django_assert_max_num_queries(12) as one:
        assert provider.get(url).status_code == 200
    for i in range(1, 10):
        note(i)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = provider.get(url).content.decode()
    assert page.count('data-testid="strategy-note"') == 10
    assert "<em>9</em>" in page
