"""Webhooks (F21): an engagement's HTTPS endpoints, each notification's delivery to one, and its attempts.

Kept beside ``models.py`` (which imports these classes) so the webhook room changes on its own.
The sending, signing and retries are ``webhooks.py``; docs/governance.md, "Webhooks".
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from pactboard.accounts.models import Organisation
from pactboard.core.tenancy import TenantQuerySet
from pactboard.engagements.models import Engagement


class WebhookQuerySet(TenantQuerySet["Webhook"]):
    engagement_path = "engagement"


class Webhook(models.Model):
    """An HTTPS endpoint that receives the engagement's notifications as signed JSON (docs/governance.md)."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="webhooks")
    url = models.CharField(max_length=500)
    # Kept readable: every delivery is signed with it (an HMAC needs the key itself, not a hash of it).
    secret = models.CharField(max_length=80)
    active = models.BooleanField(default=True)
    failure_count = models.PositiveIntegerField(default=0, help_text="Failed attempts in a row.")
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_by_org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    objects = WebhookQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "-active", "id"]

    def __str__(self) -> str:
        return self.url_shown

    @property
    def url_shown(self) -> str:
        """The URL without its path's secret parts (chat webhooks carry their key in the path)."""
        scheme, _, rest = self.url.partition("://")
        host, slash, path = rest.partition("/")
        first = path.split("/", 1)[0]
        return f"{scheme}://{host}{slash}{first}{'/…' if '/' in path or '?' in path else ''}"


class WebhookDeliveryQuerySet(TenantQuerySet["WebhookDelivery"]):
    engagement_path = "webhook__engagement"


class WebhookDelivery(models.Model):
    """One notification cause sent to one webhook: unique per (webhook, kind, cause), however often it is tried."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Gave up"
        CANCELLED = "cancelled", "Cancelled"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=40)
    cause_key = models.CharField(max_length=120)
    body = models.TextField(help_text="The JSON sent, the same bytes on every attempt.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True, help_text="A worker is sending it until then.")
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["webhook", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "kind", "cause_key"], name="webhook_delivery_once_per_cause")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.cause_key} to webhook {self.webhook_id}"


class WebhookAttemptQuerySet(TenantQuerySet["WebhookAttempt"]):
    engagement_path = "delivery__webhook__engagement"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: what the endpoint answered (or why it could not be reached)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    objects = WebhookAttemptQuerySet.as_manager()

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number_unique")]

    def __str__(self) -> str:
        return f"Attempt {self.number} of {self.delivery}"
