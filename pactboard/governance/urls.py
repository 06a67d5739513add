"""Governance pages: an engagement's reviews, actions and feedback below it; the actor's actions and notifications."""

from django.urls import path

from pactboard.governance import alert_views, collaboration_urls, notify_views, relevance_views, views

app_name = "governance"

_E = "engagements/<int:pk>/"
_M = f"{_E}reviews/<int:meeting_id>/"

urlpatterns = [
    path(f"{_E}reviews/", views.reviews, name="reviews"),
    path(f"{_E}reviews/schedule/", views.reviews_schedule, name="schedule"),
    path(_M, views.meeting_detail, name="meeting"),
    path(f"{_M}minutes/", views.meeting_minutes, name="minutes"),
    path(f"{_M}decisions/", views.meeting_decision, name="decision"),
    path(f"{_M}actions/", views.meeting_action, name="meeting_action"),
    path(f"{_M}invite/", views.meeting_invite, name="invite"),
    path(f"{_M}close/", views.meeting_close, name="close"),
    path(f"{_M}invitation.ics", views.meeting_ics_download, name="ics"),
    path(f"{_E}actions/<int:action_id>/", views.action_detail, name="action"),
    path(f"{_E}actions/<int:action_id>/reassign/", views.action_reassign, name="action_reassign"),
    path(f"{_E}alerts/", alert_views.alerts_page, name="alerts"),
    path(f"{_E}alerts/settings/", alert_views.alert_settings_page, name="alert_settings"),
    path(f"{_E}feedback/", views.thread_create, name="thread_create"),
    path(f"{_E}feedback/<int:thread_id>/", views.thread_detail, name="thread"),
    path(f"{_E}feedback/<int:thread_id>/resolve/", views.thread_resolve, name="thread_resolve"),
    path(f"{_E}webhooks/", notify_views.webhooks_page, name="webhooks"),
    path(f"{_E}webhooks/<int:webhook_id>/", notify_views.webhook_detail, name="webhook"),
    path(f"{_E}webhooks/<int:webhook_id>/active/", notify_views.webhook_switch, name="webhook_switch"),
    path("actions/", views.actions, name="actions"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/preferences/", notify_views.preferences_page, name="preferences"),
    path("notifications/badge/", views.notifications_badge, name="notifications_badge"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications_read_all"),
    path("notifications/<int:notification_id>/", views.notification_open, name="notification"),
    path("notifications/<int:notification_id>/read/", views.notification_read, name="notification_read"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]

# KPI relevance reviews (pactboard/governance/relevance_views.py)
_R = f"{_E}relevance/<int:review_id>/"
_RI = f"{_R}items/<int:item_id>/"
urlpatterns += [
    path(f"{_E}relevance/", relevance_views.relevance_reviews, name="relevance_reviews"),
    path(f"{_E}relevance/open/", relevance_views.relevance_review_open, name="relevance_open"),
    path(f"{_E}relevance/settings/", relevance_views.relevance_settings, name="relevance_settings"),
    path(_R, relevance_views.relevance_review_detail, name="relevance_review"),
    path(f"{_R}close/", relevance_views.relevance_review_close, name="relevance_close"),
    path(f"{_RI}decide/", relevance_views.relevance_item_decide, name="relevance_decide"),
    path(f"{_RI}comments/", relevance_views.relevance_item_comment, name="relevance_comment"),
]
# Collaboration (F18): strategy notes, knowledge base, wins feed.
urlpatterns += collaboration_urls.urlpatterns
