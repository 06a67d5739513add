"""Typed requests: what the membership middleware and the API's token auth put on a request.

Views under ``membership_required`` and API endpoints behind ``TokenAuth`` take an
``AuthenticatedHttpRequest``: a logged-in user acting for one membership, so ``request.membership``
is typed and never ``None`` there (after healthchecks' ``AuthenticatedHttpRequest``).
"""

from __future__ import annotations

from django.http import HttpRequest

from pactboard.accounts.models import Membership, User


class MembershipHttpRequest(HttpRequest):
    """Any request once ``ActiveMembershipMiddleware`` ran: the membership, if the user acts for one."""

    membership: Membership | None


class AuthenticatedHttpRequest(HttpRequest):
    """A request that passed ``membership_required`` (pages) or ``TokenAuth`` (API)."""

    user: User
    membership: Membership
