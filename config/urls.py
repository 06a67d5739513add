from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from pactboard.api.main import api


def home(request: HttpRequest) -> HttpResponse:
    return redirect("engagements:list" if request.user.is_authenticated else "accounts:login")


urlpatterns = [
    path("", home, name="home"),
    # Browsers ask for /favicon.ico whatever the page links to.
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True)),
    path("accounts/", include("pactboard.accounts.urls")),
    path("engagements/", include("pactboard.engagements.urls")),
    path("", include("pactboard.kpis.urls")),
    path("", include("pactboard.measurements.urls")),
    path("", include("pactboard.incentives.urls")),
    path("", include("pactboard.reports.urls")),
    path("schemas/", include("pactboard.documents.urls")),
    path("", include("pactboard.dashboards.urls")),
    path("", include("pactboard.governance.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
