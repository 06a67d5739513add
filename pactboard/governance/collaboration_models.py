"""Collaboration (F18): strategy notes the client shares, a knowledge base, and the wins feed.

Kept beside ``models.py`` (which imports these classes) so the collaboration rooms change on their own.
docs/governance.md, "Collaboration".
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from pactboard.accounts.models import Organisation
from pactboard.core.models import TimeStampedModel
from pactboard.core.tenancy import TenantQuerySet
from pactboard.engagements.models import Engagement


class StrategyNoteQuerySet(TenantQuerySet["StrategyNote"]):
    engagement_path = "engagement"

    def shared(self) -> StrategyNoteQuerySet:
        return self.filter(shared_at__isnull=False)


class StrategyNote(TimeStampedModel):
    """Markdown the client's managers write; the provider reads it once it is shared (``shared_at``)."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="strategy_notes")
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown; rendered with an allow-list of tags (docs/governance.md).")
    shared_at = models.DateTimeField(null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = StrategyNoteQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "-updated_at", "-id"]
        indexes = [models.Index(fields=["engagement", "shared_at"], name="strategy_note_shared_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_shared(self) -> bool:
        return self.shared_at is not None


class ArticleQuerySet(TenantQuerySet["Article"]):
    engagement_path = "engagement"


class Article(TimeStampedModel):
    """A practice or a lesson learned in the engagement's knowledge base, written by either party.

    ``tags`` holds the normalised tags between commas (",escalation,night-shift,"), so one tag is the
    portable lookup ``tags__contains=",escalation,"`` on SQLite and PostgreSQL alike.
    """

    class Kind(models.TextChoices):
        PRACTICE = "practice", "Practice"
        LESSON = "lesson", "Lesson learned"

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="articles")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PRACTICE)
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown; rendered with an allow-list of tags (docs/governance.md).")
    tags = models.CharField(max_length=400, blank=True, default="")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "-updated_at", "-id"]
        indexes = [models.Index(fields=["engagement", "updated_at"], name="article_recent_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split(",") if t]


class WinQuerySet(TenantQuerySet["Win"]):
    engagement_path = "engagement"


class Win(models.Model):
    """A post on the engagement's wins feed: found by the wins scan, or kudos from a person.

    ``cause_key`` names what the scan found ("met_again:fcr:2026-10"); unique per engagement, so however
    often (and however many workers at once) the scan runs, a win is posted once. Kudos have no cause key.
    """

    class Kind(models.TextChoices):
        MET_AGAIN = "met_again", "Met again"
        CHRONIC_CLEARED = "chronic_cleared", "Chronic cleared"
        MILESTONE = "milestone", "Milestone reached"
        STRETCH = "stretch", "Stretch target exceeded"
        KUDOS = "kudos", "Kudos"

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="wins")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    cause_key = models.CharField(max_length=120, blank=True, default="")
    kpi_code = models.CharField(max_length=48)
    period = models.CharField(max_length=16, help_text="The period label, as Period.label writes it.")
    message = models.CharField(max_length=500)
    evidence = models.JSONField(default=dict, blank=True)
    posted_at = models.DateTimeField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    author_org = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = WinQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "-posted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "cause_key"], condition=~models.Q(cause_key=""), name="win_once_per_cause"
            )
        ]
        indexes = [models.Index(fields=["engagement", "posted_at"], name="win_feed_idx")]

    def __str__(self) -> str:
        return self.message[:80]


__all__ = ["Article", "StrategyNote", "Win"]
