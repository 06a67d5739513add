"""KPI relevance reviews (F11): the review, its KPI items and comments, and how often one is due.

Kept beside ``models.py`` (which imports these classes) so the relevance room changes on its own.
docs/governance.md, "Relevance reviews".
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from pactboard.accounts.models import Organisation
from pactboard.core.models import TimeStampedModel
from pactboard.core.tenancy import TenantQuerySet
from pactboard.engagements.models import Engagement


class RelevanceSettingsQuerySet(TenantQuerySet["RelevanceSettings"]):
    engagement_path = "engagement"


class RelevanceSettings(models.Model):
    """How often an engagement reviews whether its KPIs still matter; without a row, every 6 months."""

    engagement = models.OneToOneField(Engagement, on_delete=models.CASCADE, related_name="relevance_settings")
    every_months = models.PositiveSmallIntegerField(
        default=6, validators=[MinValueValidator(1)], help_text="Months between two relevance reviews."
    )

    objects = RelevanceSettingsQuerySet.as_manager()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(every_months__gte=1), name="relevance_every_positive")]

    def __str__(self) -> str:
        return f"Relevance reviews of {self.engagement} every {self.every_months} months"


class RelevanceReviewQuerySet(TenantQuerySet["RelevanceReview"]):
    engagement_path = "engagement"


class RelevanceReview(TimeStampedModel):
    """One look at every KPI in force, with its evidence: keep, adjust or retire each (the client decides).

    ``due_on`` is the day the cadence (or a manager, on demand) asked for it; ``(engagement, due_on)``
    is unique and an engagement has at most one open review, so the daily schedule opens it once
    however often (and on however many workers) it runs.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="relevance_reviews")
    due_on = models.DateField(help_text="A day in the engagement's time zone.")
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    based_on = models.ForeignKey(
        "kpis.AgreementVersion", on_delete=models.PROTECT, related_name="+", help_text="The version in force."
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_by_org = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    draft = models.ForeignKey(
        "kpis.AgreementVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The draft version that closing the review created (none when every KPI was kept).",
    )

    objects = RelevanceReviewQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "-due_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "due_on"], name="relevance_review_once_per_due_day"),
            models.UniqueConstraint(
                fields=["engagement"], condition=Q(status="open"), name="relevance_review_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"Relevance review of {self.engagement} due {self.due_on}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class RelevanceItemQuerySet(TenantQuerySet["RelevanceItem"]):
    engagement_path = "review__engagement"


class RelevanceItem(models.Model):
    """One KPI in a relevance review: its terms when the review opened, the client's choice and why."""

    class Decision(models.TextChoices):
        KEEP = "keep", "Keep"
        ADJUST = "adjust", "Adjust"
        RETIRE = "retire", "Retire"

    review = models.ForeignKey(RelevanceReview, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    kpi_code = models.CharField(max_length=48)
    kpi_name = models.CharField(max_length=120)
    unit = models.CharField(max_length=24)
    direction = models.CharField(max_length=6)
    period_kind = models.CharField(max_length=7)
    target = models.DecimalField(max_digits=20, decimal_places=6)
    amber = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    stretch = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    decision = models.CharField(max_length=6, choices=Decision.choices, blank=True)
    # For "adjust": the new levels; None keeps the level as it is.
    new_target = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    new_amber = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    new_stretch = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    evidence = models.JSONField(null=True, blank=True, help_text="The evidence as it stood when the review closed.")

    objects = RelevanceItemQuerySet.as_manager()

    class Meta:
        ordering = ["review", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["review", "kpi_code"], name="relevance_item_kpi_unique")]

    def __str__(self) -> str:
        return f"{self.kpi_name} in {self.review}"


class RelevanceCommentQuerySet(TenantQuerySet["RelevanceComment"]):
    engagement_path = "item__review__engagement"


class RelevanceComment(TimeStampedModel):
    """A remark on one KPI of a relevance review (the provider's answer to the client's choice, typically)."""

    item = models.ForeignKey(RelevanceItem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()

    objects = RelevanceCommentQuerySet.as_manager()

    class Meta:
        ordering = ["item", "created_at", "id"]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.item}"
