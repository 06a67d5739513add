"""Token auth for the REST API: ``Authorization: Bearer pb_...`` acts as one membership."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from ninja.security import HttpBearer

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.accounts.services import api_token_authenticate


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        membership = api_token_authenticate(raw=token)
        if membership is None:
            return None
        cast(AuthenticatedHttpRequest, request).membership = membership
        request.user = membership.user
        return membership
