from django.contrib import admin

from pactboard.engagements.models import Engagement, Objective, ProviderProfile


class ObjectiveInline(admin.StackedInline):
    model = Objective
    extra = 0


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin):
    list_display = ["name", "client", "provider", "status", "start_date", "end_date"]
    list_filter = ["status"]
    search_fields = ["name", "client__name", "provider__name"]
    inlines = [ObjectiveInline]


@admin.register(ProviderProfile)
class ProviderProfileAdmin(admin.ModelAdmin):
    list_display = ["organisation"]
