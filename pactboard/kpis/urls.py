"""KPI catalogue and agreement pages; agreement URLs live under the engagement they belong to."""

from django.urls import path

from pactboard.kpis import views

app_name = "kpis"

_VERSION = "engagements/<int:pk>/agreement/versions/<int:version_id>/"

urlpatterns = [
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/custom/new/", views.custom_kpi_create, name="custom_create"),
    path("agreements/awaiting-signature/", views.awaiting_signature, name="awaiting"),
    path("engagements/<int:pk>/agreement/", views.agreement, name="agreement"),
    path("engagements/<int:pk>/agreement/draft/", views.draft_start, name="draft_start"),
    path("engagements/<int:pk>/agreement/compare/", views.version_compare, name="compare"),
    path(_VERSION, views.version_detail, name="version"),
    path(f"{_VERSION}kpis/new/", views.kpi_create, name="kpi_create"),
    path(f"{_VERSION}kpis/<int:kpi_id>/edit/", views.kpi_edit, name="kpi_edit"),
    path(f"{_VERSION}kpis/<int:kpi_id>/remove/", views.kpi_remove, name="kpi_remove"),
    path(f"{_VERSION}propose/", views.version_propose, name="propose"),
    path(f"{_VERSION}comments/", views.version_comment, name="comment"),
    path(f"{_VERSION}sign/", views.version_sign, name="sign"),
    path(f"{_VERSION}counter-proposal/", views.version_counter_propose, name="counter_propose"),
    path(f"{_VERSION}withdraw/", views.version_withdraw, name="withdraw"),
]
