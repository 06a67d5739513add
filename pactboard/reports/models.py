"""Engagement reports: a draft per period whose texts managers edit, frozen into an archive entry when final.

A final report keeps everything it shows (``data``: the report as JSON), the PDF that was sent (a file
under the data dir named by its SHA-256, ``pdf_path``) and the engagement's audit head when it was
made. It never changes: the services refuse, ``save()`` and ``delete()`` refuse.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from pactboard.accounts.models import Membership
from pactboard.core.models import TimeStampedModel
from pactboard.core.tenancy import TenantQuerySet
from pactboard.engagements.models import Engagement


class FinalReportError(Exception):
    """Raised when code tries to change or delete a final (archived) report."""


class ReportQuerySet(TenantQuerySet["Report"]):
    engagement_path = "engagement"


class Report(TimeStampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        FINAL = "final", "Final (archived)"

    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="reports")
    period = models.CharField(max_length=16, help_text="The period reported, as Period.label writes it.")
    status = models.CharField(max_length=5, choices=Status.choices, default=Status.DRAFT)
    # One line per item; empty means "derived from the data" until a manager edits them.
    successes = models.TextField(blank=True)
    challenges = models.TextField(blank=True)
    texts_edited = models.BooleanField(default=False)
    texts_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(null=True, blank=True, help_text="The report as made (final only).")
    data_sha256 = models.CharField(max_length=64, blank=True)
    pdf_path = models.CharField(max_length=300, blank=True, help_text="The PDF, relative to the data dir.")
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    head_seq = models.PositiveBigIntegerField(null=True, blank=True)
    head_hash = models.CharField(max_length=64, blank=True, help_text="The engagement's audit head when made.")
    finalised_at = models.DateTimeField(null=True, blank=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "-period"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "period"], name="report_period_unique"),
            models.CheckConstraint(
                condition=models.Q(status="draft")
                | (models.Q(finalised_at__isnull=False, data__isnull=False) & ~models.Q(head_hash="")),
                name="report_final_is_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.engagement} report {self.period} ({self.get_status_display()})"

    @property
    def is_final(self) -> bool:
        return self.status == self.Status.FINAL

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == self.Status.FINAL:
                raise FinalReportError("A final report is archived as sent and never changes.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_final:
            raise FinalReportError("A final report is archived forever.")
        return super().delete(*args, **kwargs)


class ReportRecipientQuerySet(TenantQuerySet["ReportRecipient"]):
    engagement_path = "engagement"


class ReportRecipient(models.Model):
    """A member of one party who receives the engagement's scheduled reports by e-mail (the PDF attached)."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="report_recipients")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReportRecipientQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "id"]
        constraints = [models.UniqueConstraint(fields=["engagement", "membership"], name="report_recipient_unique")]

    def __str__(self) -> str:
        return f"{self.membership} receives reports of {self.engagement}"
