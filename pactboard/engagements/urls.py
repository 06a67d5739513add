from django.urls import path

from pactboard.engagements import views

app_name = "engagements"

urlpatterns = [
    path("", views.engagement_list, name="list"),
    path("new/", views.engagement_create, name="create"),
    path("<int:pk>/", views.engagement_detail, name="detail"),
    path("<int:pk>/edit/", views.engagement_edit, name="edit"),
    path("<int:pk>/objectives/new/", views.objective_create, name="objective_create"),
    path("<int:pk>/objectives/<int:objective_id>/edit/", views.objective_edit, name="objective_edit"),
    path("profile/", views.provider_profile_edit, name="profile_edit"),
]
