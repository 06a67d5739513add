from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from pactboard.governance.selectors import notification_unread_count


def notifications(request: HttpRequest) -> dict[str, Any]:
    """The header's unread count, computed only when a template shows it (one query)."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    return {"unread_notifications": lambda: notification_unread_count(membership=membership)}
