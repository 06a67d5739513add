from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from pactboard.accounts.selectors import memberships_of_user


def memberships(request: HttpRequest) -> dict[str, Any]:
    """The active membership and, lazily, the others the user can switch to."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "membership": getattr(request, "membership", None),
        "all_memberships": lambda: list(memberships_of_user(user=user)),
    }
