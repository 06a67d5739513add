"""Incentive pages; they live under the engagement they belong to."""

from django.urls import path

from pactboard.incentives import views

app_name = "incentives"

_E = "engagements/<int:pk>/incentives/"

urlpatterns = [
    path(_E, views.settlements, name="settlements"),
    path(f"{_E}settlements/<int:settlement_id>/", views.settlement, name="settlement"),
    path(f"{_E}settlements/<int:settlement_id>/what-if/", views.what_if, name="what_if"),
    path(f"{_E}settlements/<int:settlement_id>/<str:action>/", views.settlement_action, name="settlement_action"),
    path(f"{_E}settlements/<int:settlement_id>/export.<str:fmt>", views.settlement_export, name="settlement_export"),
    path(f"{_E}versions/<int:version_id>/scheme/", views.scheme, name="scheme"),
]
