"""A period's settlement of an engagement's incentive scheme: drafted, approved by both parties, then final.

The scheme itself is part of the agreement (``kpis.AgreementVersion.incentive_scheme``), signed
with the KPI set. A settlement keeps everything it was computed from (``inputs``: the period's
values and fee amounts, the periods around it, corrections of earlier final periods) and what came
out (``statement``: one line per rule with the numbers behind it), so a final settlement can be
shown, exported and checked without recomputing, and never changes: the services refuse,
``save()`` refuses, and database triggers refuse (``incentives/guard.py``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from pactboard.core.models import TimeStampedModel
from pactboard.core.tenancy import TenantQuerySet
from pactboard.engagements.models import Engagement
from pactboard.kpis.models import AgreementVersion


class FinalSettlementError(Exception):
    """Raised when code tries to change or delete a final settlement."""


class SettlementQuerySet(TenantQuerySet["Settlement"]):
    engagement_path = "engagement"


class Settlement(TimeStampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft, awaiting approvals"
        FINAL = "final", "Final"

    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="settlements")
    period = models.CharField(max_length=7, help_text="The month settled, e.g. 2026-10.")
    version = models.ForeignKey(AgreementVersion, on_delete=models.PROTECT, related_name="settlements")
    status = models.CharField(max_length=5, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3)
    inputs = models.JSONField(help_text="Values, fee amounts, neighbouring periods and corrections computed from.")
    statement = models.JSONField(help_text="The statement: totals and one line per rule, amounts as decimal text.")
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the inputs and statement approved.")
    credits_due = models.DecimalField(max_digits=20, decimal_places=4)
    bonuses = models.DecimalField(max_digits=20, decimal_places=4)
    net = models.DecimalField(max_digits=20, decimal_places=4)
    adjustments = models.DecimalField(max_digits=20, decimal_places=4)
    payable = models.DecimalField(max_digits=20, decimal_places=4)
    client_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    client_approved_at = models.DateTimeField(null=True, blank=True)
    provider_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    provider_approved_at = models.DateTimeField(null=True, blank=True)
    finalised_at = models.DateTimeField(null=True, blank=True)

    objects = SettlementQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "-period"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "period"], name="settlement_period_unique"),
            models.CheckConstraint(
                condition=models.Q(status="draft")
                | models.Q(client_approved_at__isnull=False, provider_approved_at__isnull=False),
                name="settlement_final_needs_both_approvals",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.engagement} settlement {self.period} ({self.get_status_display()})"

    @property
    def is_final(self) -> bool:
        return self.status == self.Status.FINAL

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == self.Status.FINAL:
                raise FinalSettlementError("A final settlement never changes: a correction goes into the next one.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.status == self.Status.FINAL:
            raise FinalSettlementError("A final settlement is kept forever.")
        return super().delete(*args, **kwargs)
