"""Admin: governance rows are read-only here; they change through the services, which audit them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from pactboard.governance.models import ActionItem, FeedbackThread, Meeting, Notification


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
    list_display = ("title", "recipient", "kind", "created_at", "read_at", "emailed_at")
    list_filter = ("kind",)
