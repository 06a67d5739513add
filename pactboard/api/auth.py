"""Token auth for the REST API: ``Authorization: Bearer pb_...`` acts as one membership."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from ninja.security import HttpBearer

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.accounts.models import ApiToken
from pactboard.accounts.services import api_token_authenticate
from pactboard.core.errors import forbidden

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = api_token_authenticate(raw=token)
        if api_token is None:
            return None
        if api_token.scope == ApiToken.Scope.READ and request.method not in READ_METHODS:
            raise forbidden("This token is read-only: create a read-and-write token for changes.")
        membership = api_token.membership
        cast(AuthenticatedHttpRequest, request).membership = membership
        request.user = membership.user
        return membership
