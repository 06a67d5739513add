"""Sets ``request.membership``: the organisation the user acts for in this request."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.http import HttpRequest, HttpResponse

from pactboard.accounts.http import MembershipHttpRequest
from pactboard.accounts.selectors import membership_for_user

SESSION_KEY = "pactboard_membership_id"


class ActiveMembershipMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        membership = None
        if request.user.is_authenticated:
            membership = membership_for_user(user=request.user, membership_id=request.session.get(SESSION_KEY))
        cast(MembershipHttpRequest, request).membership = membership
        return self.get_response(request)
