"""Engagement pages: list, create, detail (objectives, profile, parties), edit; objectives; profile."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.errors import PactboardError
from pactboard.core.forms import form_add_domain_error
from pactboard.core.htmx import render_page
from pactboard.core.views import membership_required
from pactboard.engagements import policy, selectors, services
from pactboard.engagements.forms import EngagementForm, ObjectiveForm, ProviderProfileForm
from pactboard.engagements.models import Engagement


@membership_required
def engagement_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    if status not in {None, *Engagement.Status.values}:
        status = None
    engagements = selectors.engagement_list(membership=request.membership, status=status)
    return render_page(
        request,
        page="engagements/list.html",
        partial="engagements/partials/_list.html",
        context={"engagements": engagements, "status": status, "statuses": Engagement.Status.choices},
    )


@membership_required
@require_http_methods(["GET", "POST"])
def engagement_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    membership = request.membership
    verdict = policy.engagement_create_may(actor=membership)
    if not verdict.allowed:
        raise PermissionDenied(verdict.reason)
    providers = selectors.provider_organisations(membership=membership)
    form = EngagementForm(request.POST or None, providers=providers)
    if request.method == "POST" and form.is_valid():
        try:
            engagement = services.engagement_create(actor=membership, **form.cleaned_data)
        except PactboardError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, f"Engagement “{engagement.name}” created; the provider has been invited.")
            return redirect("engagements:detail", engagement.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "engagements/form.html", {"form": form, "creating": True}, status=status)


@membership_required
@require_http_methods(["GET", "POST"])
def engagement_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    membership = request.membership
    engagement = selectors.engagement_get(membership=membership, engagement_id=pk)
    initial = {f: getattr(engagement, f) for f in services.ENGAGEMENT_FIELDS}
    form = EngagementForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if k in services.ENGAGEMENT_FIELDS}
        try:
            services.engagement_update(actor=membership, engagement=engagement, **changes)
        except PactboardError as exc:
            if exc.kind == "forbidden":
                raise
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Engagement saved.")
            return redirect("engagements:detail", engagement.pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request, "engagements/form.html", {"form": form, "engagement": engagement, "creating": False}, status=status
    )


def _detail_context(request: AuthenticatedHttpRequest, engagement: Engagement) -> dict[str, Any]:
    membership = request.membership
    people = list(selectors.engagement_people(engagement=engagement))
    return {
        "engagement": engagement,
        "side": engagement.party_role(membership.organisation_id),
        **policy.engagement_permissions(actor=membership, engagement=engagement),
        "objective_rows": selectors.objectives_with_smart_check(engagement=engagement),
        "profile": selectors.provider_profile_for(membership=membership, organisation=engagement.provider),
        "client_people": [m for m in people if m.organisation_id == engagement.client_id],
        "provider_people": [m for m in people if m.organisation_id == engagement.provider_id],
    }


@membership_required
def engagement_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    engagement = selectors.engagement_get(membership=request.membership, engagement_id=pk)
    return render(request, "engagements/detail.html", _detail_context(request, engagement))


@membership_required
@require_http_methods(["GET", "POST"])
def objective_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    membership = request.membership
    engagement = selectors.engagement_get(membership=membership, engagement_id=pk)
    people = list(selectors.engagement_people(engagement=engagement))
    form = ObjectiveForm(request.POST or None, people=people)
    if request.method == "POST" and form.is_valid():
        try:
            services.objective_create(actor=membership, engagement=engagement, **form.cleaned_data)
        except PactboardError as exc:
            if exc.kind == "forbidden":
                raise
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Objective added.")
            return redirect("engagements:detail", engagement.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "engagements/objective_form.html", {"form": form, "engagement": engagement}, status=status)


@membership_required
@require_http_methods(["GET", "POST"])
def objective_edit(request: AuthenticatedHttpRequest, pk: int, objective_id: int) -> HttpResponse:
    membership = request.membership
    objective = selectors.objective_get(membership=membership, objective_id=objective_id)
    engagement = objective.engagement
    if engagement.pk != pk:
        return redirect("engagements:objective_edit", engagement.pk, objective.pk)
    people = list(selectors.engagement_people(engagement=engagement))
    form = ObjectiveForm(request.POST or None, instance=objective, people=people)
    if request.method == "POST" and form.is_valid():
        try:
            services.objective_update(actor=membership, objective=objective, **form.cleaned_data)
        except PactboardError as exc:
            if exc.kind == "forbidden":
                raise
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Objective saved.")
            return redirect("engagements:detail", engagement.pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "engagements/objective_form.html",
        {"form": form, "engagement": engagement, "objective": objective},
        status=status,
    )


@membership_required
@require_http_methods(["GET", "POST"])
def provider_profile_edit(request: AuthenticatedHttpRequest) -> HttpResponse:
    membership = request.membership
    verdict = policy.provider_profile_edit_may(actor=membership)
    if not verdict.allowed:
        raise PermissionDenied(verdict.reason)
    profile = selectors.provider_profile_for(membership=membership, organisation=membership.organisation)
    initial = {f: getattr(profile, f) for f in services.PROFILE_FIELDS} if profile else {}
    form = ProviderProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.provider_profile_update(actor=membership, **form.cleaned_data)
        except PactboardError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Capability profile saved.")
            return redirect("engagements:profile_edit")
    return render(request, "engagements/profile_form.html", {"form": form, "profile": profile})
