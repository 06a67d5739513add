"""Report pages; they live under the engagement they belong to."""

from django.urls import path

from pactboard.reports import views

app_name = "reports"

_E = "engagements/<int:pk>/reports/"

urlpatterns = [
    path(_E, views.archive, name="archive"),
    path(f"{_E}open/", views.open_period, name="open"),
    path(f"{_E}recipients/", views.recipients, name="recipients"),
    path(f"{_E}recipients/<int:recipient_id>/remove/", views.recipient_remove, name="recipient_remove"),
    path(f"{_E}<str:period>/", views.report, name="report"),
    path(f"{_E}<str:period>/finalise/", views.finalise, name="finalise"),
    path(f"{_E}<str:period>/report.<str:fmt>", views.download, name="download"),
    path("engagements/<int:pk>/scorecard/export.<str:fmt>", views.scorecard_download, name="scorecard_download"),
]
