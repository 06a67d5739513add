"""Dashboard pages; an engagement's live at /engagements/<pk>/dashboard/ and its KPIs below it."""

from django.urls import path

from pactboard.dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("portfolio/", views.portfolio, name="portfolio"),
    path("engagements/<int:pk>/dashboard/", views.engagement_dashboard, name="engagement"),
    path("engagements/<int:pk>/kpis/<slug:code>/", views.kpi_detail, name="kpi"),
    path("engagements/<int:pk>/business-changes/", views.business_changes, name="changes"),
]
