"""Throttling of the doors a guesser knocks on: log-in, password reset, invitation acceptance.

Log-in is throttled by django-axes (settings ``AXES_*``): failures are counted per account and per
client address in the database, so every app process sees them. Password reset and invitation
acceptance are not log-ins, so axes does not see them; ``hit`` below counts their attempts per
address and per account (the e-mail asked for, the invitation) in Django's cache, in fixed windows.

The client address is ``REMOTE_ADDR``, or, behind ``PACTBOARD_TRUSTED_PROXIES`` proxies, the address
that the nearest of them saw (the entry that many places from the right of X-Forwarded-For): a
client can prepend anything to that header, so the left-most entry is never trusted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


def client_ip(request: HttpRequest) -> str:
    """The client's address, as far as the trusted proxies say (AXES_CLIENT_IP_CALLABLE)."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies = int(getattr(settings, "PACTBOARD_TRUSTED_PROXIES", 0))
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    forwarded = [part for part in forwarded if part]
    # With N trusted proxies, the last N entries were appended by them; the N-th from the right is the client.
    return forwarded[-proxies] if len(forwarded) >= proxies else remote


def login_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """The account a log-in attempt is for (AXES_USERNAME_CALLABLE): e-mails in any case are one account."""
    raw = (credentials or {}).get("username")
    if raw is None and request is not None:
        raw = request.POST.get("username")
    return str(raw).strip().lower() if raw else None


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` in each ``window`` seconds."""

    attempts: int
    window: int


def _key(scope: str, kind: str, value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]
    return f"throttle:{scope}:{kind}:{digest}"


def hit(*, scope: str, keys: dict[str, str], limit: Limit) -> bool:
    """Count one attempt under every key (e.g. ``{"ip": ..., "account": ...}``); False if any is over the limit.

    Fixed windows aligned to the clock: the count of a key starts again at the next window. Every
    attempt is counted, refused ones too, so a guesser who keeps trying stays refused.
    """
    window_start = int(timezone.now().timestamp()) // limit.window
    allowed = True
    for kind, value in keys.items():
        if not value:
            continue
        key = f"{_key(scope, kind, value)}:{window_start}"
        cache.add(key, 0, timeout=limit.window + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=limit.window + 5)
            count = 1
        if count > limit.attempts:
            allowed = False
    return allowed


def password_reset_limit() -> Limit:
    return Limit(attempts=settings.PACTBOARD_RESET_ATTEMPTS, window=settings.PACTBOARD_THROTTLE_WINDOW_SECONDS)


def invitation_limit() -> Limit:
    return Limit(attempts=settings.PACTBOARD_INVITATION_ATTEMPTS, window=settings.PACTBOARD_THROTTLE_WINDOW_SECONDS)


def throttled_response(request: HttpRequest, *, seconds: int) -> HttpResponse:
    """The one page of a refused attempt: 429, with how long to wait."""
    minutes = max(1, -(-seconds // 60))
    response = render(request, "accounts/locked_out.html", {"cooloff_minutes": minutes}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def axes_lockout(request: HttpRequest, original_response: Any, credentials: Any) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: a locked-out log-in gets the same page."""
    return throttled_response(request, seconds=int(settings.AXES_COOLOFF_TIME.total_seconds()))
