"""Admin: governance rows are read-only here; they change through the services, which audit them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from pactboard.governance.models import (
    ActionItem,
    Digest,
    FeedbackThread,
    Meeting,
    Notification,
    Webhook,
    WebhookDelivery,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ("title", "engagement", "starts_at", "minutes_closed_at")
    list_filter = ("engagement",)


@admin.register(ActionItem)
class ActionItemAdmin(ReadOnlyAdmin):
    list_display = ("title", "engagement", "owner", "due_date", "status")
    list_filter = ("status",)


@admin.register(FeedbackThread)
class FeedbackThreadAdmin(ReadOnlyAdmin):
    list_display = ("title", "engagement", "kpi_code", "period_start", "resolved_at")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("title", "recipient", "kind", "email_mode", "created_at", "read_at", "emailed_at")
    list_filter = ("kind",)


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdmin):
    list_display = ("url_shown", "engagement", "active", "failure_count", "disabled_at")
    exclude = ("secret", "url")  # the signing key and the URL's path (a chat webhook's key) stay out of sight
    readonly_fields = ("url_shown",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("kind", "cause_key", "webhook", "status", "attempts", "next_attempt_at", "delivered_at")
    list_filter = ("status",)


@admin.register(Digest)
class DigestAdmin(ReadOnlyAdmin):
    list_display = ("recipient", "local_date", "time_zone", "sent_at", "item_count")
