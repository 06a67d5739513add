"""Collaboration pages of an engagement (included by governance/urls.py, in its namespace)."""

from django.urls import path

from pactboard.governance import collaboration_views as views

_E = "engagements/<int:pk>/"

urlpatterns = [
    path(f"{_E}strategy/", views.strategy, name="strategy"),
    path(f"{_E}strategy/<int:note_id>/", views.strategy_note, name="strategy_note"),
    path(f"{_E}strategy/<int:note_id>/share/", views.strategy_note_share, name="strategy_note_share"),
    path(f"{_E}knowledge/", views.knowledge, name="knowledge"),
    path(f"{_E}knowledge/<int:article_id>/", views.article, name="article"),
    path(f"{_E}wins/", views.wins_feed, name="wins"),
]
