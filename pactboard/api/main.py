"""The one NinjaAPI object: auth, error mapping, and each app's router."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from pactboard.api.auth import TokenAuth
from pactboard.core.errors import HTTP_STATUS, PactboardError
from pactboard.engagements.api import router as engagements_router
from pactboard.measurements.api import router as measurements_router

api = NinjaAPI(
    title="Pactboard API",
    version="1",
    description="Everything the web UI does, with bearer-token auth (create a token under Account → API tokens).",
    auth=TokenAuth(),
    urls_namespace="api",
)


@api.exception_handler(PactboardError)
def pactboard_error(request: HttpRequest, exc: PactboardError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=HTTP_STATUS.get(exc.kind, 400))


api.add_router("/engagements", engagements_router)
api.add_router("", "pactboard.kpis.api.router")
api.add_router("/engagements", measurements_router)
api.add_router("/engagements", "pactboard.incentives.api.router")
