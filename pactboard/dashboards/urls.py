"""Dashboard pages; an engagement's live at /engagements/<pk>/dashboard/ and its KPIs below it."""

from django.urls import path

from pactboard.dashboards import audit_views, views

app_name = "dashboards"

urlpatterns = [
    path("portfolio/", views.portfolio, name="portfolio"),
    path("engagements/<int:pk>/dashboard/", views.engagement_dashboard, name="engagement"),
    path("engagements/<int:pk>/kpis/<slug:code>/", views.kpi_detail, name="kpi"),
    path("engagements/<int:pk>/business-changes/", views.business_changes, name="changes"),
    path("engagements/<int:pk>/audit/", audit_views.audit_trail, name="audit"),
    path("engagements/<int:pk>/audit/export.csv", audit_views.audit_csv, name="audit_csv"),
    path("engagements/<int:pk>/audit/verify/", audit_views.audit_verify, name="audit_verify"),
]
