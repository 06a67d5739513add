"""The same view serves the full page and, for an HTMX request, its partial."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_page(
    request: HttpRequest, *, page: str, partial: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render ``partial`` for HTMX requests and ``page`` (which includes the partial) otherwise."""
    template = partial if getattr(request, "htmx", False) else page
    return render(request, template, context, status=status)
