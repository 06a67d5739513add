"""Routes of the documents room, mounted by config/urls.py under "schemas/"."""

from django.urls import path

from pactboard.documents.views import engagement_schema

urlpatterns = [path("engagement.schema.json", engagement_schema, name="engagement_schema")]
