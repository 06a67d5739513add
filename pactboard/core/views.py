"""View helpers shared by the apps: the actor of a request and mapping domain errors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from pactboard.core.errors import PactboardError

View = Callable[..., HttpResponse]


def membership_required(view: View) -> View:
    """Logged-in users who act for an organisation; domain 404/403 become HTTP 404/403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(request, "membership", None) is None:
            return render(request, "core/no_membership.html", status=403)
        try:
            return view(request, *args, **kwargs)
        except PactboardError as exc:
            if exc.kind == "not_found":
                raise Http404(exc.message) from None
            if exc.kind == "forbidden":
                raise PermissionDenied(exc.message) from None
            raise

    return wrapper
