"""Measurement pages; they live under the engagement they belong to."""

from django.urls import path

from pactboard.measurements import views

app_name = "measurements"

_E = "engagements/<int:pk>/"

urlpatterns = [
    path(f"{_E}data/", views.data, name="data"),
    path(f"{_E}kpis/<str:code>/values/", views.kpi_values, name="kpi_values"),
    path(f"{_E}imports/new/", views.import_values, name="import_values"),
    path(f"{_E}imports/<int:batch_id>/", views.import_batch, name="import_batch"),
    path(f"{_E}imports/<int:batch_id>/file/", views.import_file, name="import_file"),
    path(f"{_E}datasets/", views.datasets, name="datasets"),
    path(f"{_E}datasets/recompute/", views.recompute, name="recompute"),
    path(f"{_E}datasets/<int:dataset_id>/upload/", views.dataset_upload, name="dataset_upload"),
    path(f"{_E}values/<int:measurement_id>/records.csv", views.records, name="records"),
    path(f"{_E}scorecard/", views.scorecard, name="scorecard"),
]
