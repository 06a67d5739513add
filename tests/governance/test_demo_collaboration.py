"""The demo's collaboration: a shared strategy note, articles by both parties, automatic wins and kudos."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from pactboard.demo.history import DATA_ENTRY, SUPPORT
from pactboard.governance.collaboration_models import Article, StrategyNote, Win

pytestmark = pytest.mark.django_db


def test_demo_has_a_shared_note_articles_of_both_parties_and_wins():
    call_command("demo", "--no-serve", stdout=io.StringIO())
    notes = StrategyNote.objects.filter(engagement__name=SUPPORT)
    assert notes.filter(shared_at__isnull=False).count() == 1
    assert notes.filter(shared_at__isnull=True).count() == 1  # a draft the provider does not see
    support_articles = Article.objects.filter(engagement__name=SUPPORT).select_related("engagement")
    parties = {a.engagement.party_role(a.author_org_id) for a in support_articles}
    assert parties == {"client", "provider"}
    assert Article.objects.filter(engagement__name=DATA_ENTRY).exists()
    wins = Win.objects.filter(engagement__name__in=[SUPPORT, DATA_ENTRY])
    kinds = set(wins.values_list("kind", flat=True))
    assert "kudos" in kinds
    assert kinds - {"kudos"}, "the replayed scan posts automatic wins"
    # The data-entry history reaches its 16-hour turnaround milestone (31 Aug 2025) in July 2025
    # (15.2 hours, pactboard/demo/history.py): the replayed scan posted it.
    assert Win.objects.filter(cause_key="milestone:turnaround_time:2025-08-31", period="2025-07").exists()
    kudos = wins.filter(kind="kudos").select_related("engagement")
    assert {k.engagement.party_role(k.author_org_id) for k in kudos} == {"client", "provider"}
