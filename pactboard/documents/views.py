"""The published JSON Schema of engagement documents, at ``/schemas/engagement.schema.json``.

Public on purpose: it holds no tenant data, and editors and CI jobs fetch it without logging in.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from pactboard.documents.spec import document_json_schema_text


@require_GET
@cache_control(public=True, max_age=3600)
def engagement_schema(request: HttpRequest) -> HttpResponse:
    """The JSON Schema generated from the document's pydantic models (as committed in schemas/)."""
    return HttpResponse(document_json_schema_text(), content_type="application/schema+json")
