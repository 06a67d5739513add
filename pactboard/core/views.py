"""View helpers shared by the apps: the actor of a request and mapping domain errors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django_htmx.http import HttpResponseClientRedirect

from pactboard.core.errors import PactboardError

View = Callable[..., HttpResponse]


def _to_login(request: HttpRequest) -> HttpResponse:
    """The log-in page, coming back afterwards to the page the person was on.

    An HTMX request (a live poll, a fragment, a form posted in place) would follow a plain redirect
    and swap the whole log-in page into the fragment's slot, and a live page would go on polling into
    it every second. It is told to load the log-in page as a page instead (``HX-Redirect``), coming
    back to the page in the address bar when that is on this site, not to the fragment's URL.
    """
    if not getattr(request, "htmx", False):
        return redirect_to_login(request.get_full_path())
    back = request.htmx.current_url_abs_path  # type: ignore[attr-defined]  # set by HtmxMiddleware
    login = redirect_to_login(back)["Location"] if back else resolve_url(settings.LOGIN_URL)
    return HttpResponseClientRedirect(login)


def membership_required(view: View) -> View:
    """Logged-in users who act for an organisation; domain 404/403 become HTTP 404/403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return _to_login(request)
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
