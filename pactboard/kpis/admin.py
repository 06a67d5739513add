"""Admin: custom KPIs are editable; agreement versions are read-only (signed content never changes)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from pactboard.kpis.models import AgreementVersion, Comment, CustomKpi, Signature, VersionKpi


class ReadOnlyMixin:
    """Versions, their KPIs, signatures and comments change only through the services (audited)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CustomKpi)
class CustomKpiAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "organisation", "category", "unit", "direction"]
    list_filter = ["category", "direction"]
    search_fields = ["name", "code", "organisation__name"]


class VersionKpiInline(ReadOnlyMixin, admin.TabularInline):
    model = VersionKpi
    fields = ("code", "name", "target", "amber", "stretch", "weight", "period", "active")
    readonly_fields = fields
    extra = 0
    show_change_link = True


class SignatureInline(ReadOnlyMixin, admin.TabularInline):
    model = Signature
    fields = ("organisation", "signer", "signed_at", "content_hash", "recorded_as_agreed")
    readonly_fields = fields
    extra = 0


@admin.register(AgreementVersion)
class AgreementVersionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["engagement", "number", "status", "effective_from", "proposed_at", "agreed_at"]
    list_filter = ["status"]
    search_fields = ["engagement__name"]
    list_select_related = ["engagement"]
    inlines = [VersionKpiInline, SignatureInline]


@admin.register(VersionKpi)
class VersionKpiAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "code", "version", "target", "weight"]
    search_fields = ["name", "code", "version__engagement__name"]
    list_select_related = ["version__engagement"]


@admin.register(Comment)
class CommentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["version", "kpi_code", "author", "organisation", "created_at"]
    list_select_related = ["version__engagement", "author", "organisation"]
