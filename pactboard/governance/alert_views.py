"""The engagement's alerts page and its alert settings (thresholds) page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.errors import PactboardError
from pactboard.core.forms import form_add_domain_error
from pactboard.core.views import membership_required
from pactboard.engagements.selectors import engagement_get
from pactboard.governance import alert_settings, policy, selectors
from pactboard.governance.alerts import KIND_WORDS
from pactboard.governance.forms import AlertSettingsForm

ALERTS_SHOWN = 200  # open alerts listed on the page, newest first


@membership_required
def alerts_page(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Open alerts of the engagement, with the thresholds that raise them."""
    engagement = engagement_get(membership=request.membership, engagement_id=pk)
    rows = list(selectors.alert_list(engagement=engagement, is_open=True)[:ALERTS_SHOWN])
    return render(
        request,
        "governance/alerts.html",
        {
            "engagement": engagement,
            "alerts": [(a, KIND_WORDS.get(a.kind, a.kind)) for a in rows],
            "thresholds": alert_settings.alert_settings_values(engagement=engagement),
            "can_change": policy.alert_settings_may(actor=request.membership, engagement=engagement).allowed,
        },
    )


@membership_required
@require_http_methods(["GET", "POST"])
def alert_settings_page(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Read the thresholds (everyone of both parties); change them (the client's administrators and managers)."""
    engagement = engagement_get(membership=request.membership, engagement_id=pk)
    current = alert_settings.alert_settings_values(engagement=engagement)
    verdict = policy.alert_settings_may(actor=request.membership, engagement=engagement)
    status = 200
    if request.method == "POST":
        if not verdict.allowed:
            raise PactboardError(verdict.reason, kind=verdict.kind)
        form = AlertSettingsForm(request.POST)
        status = 422
        if form.is_valid():
            try:
                alert_settings.alert_settings_update(
                    actor=request.membership, engagement=engagement, **form.cleaned_data
                )
            except PactboardError as exc:
                if exc.kind in {"not_found", "forbidden"}:
                    raise
                form_add_domain_error(form, exc)
            else:
                messages.success(request, "Alert settings saved: the next scan uses them.")
                return redirect("governance:alerts", engagement.pk)
    else:
        form = AlertSettingsForm(initial=current)
    return render(
        request,
        "governance/alert_settings.html",
        {
            "engagement": engagement,
            "form": form,
            "thresholds": current,
            "can_change": verdict.allowed,
            "refusal": verdict.reason,
        },
        status=status,
    )
