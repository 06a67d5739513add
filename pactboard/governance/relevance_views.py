"""Pages of KPI relevance reviews: the engagement's reviews, and one review with a form per KPI."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.errors import PactboardError
from pactboard.core.forms import form_add_domain_error
from pactboard.core.views import membership_required
from pactboard.engagements.models import Engagement
from pactboard.engagements.selectors import engagement_get
from pactboard.governance import policy, relevance
from pactboard.governance.models import RelevanceItem, RelevanceReview
from pactboard.governance.relevance_evidence import relevance_evidence
from pactboard.governance.relevance_forms import RelevanceCommentForm, RelevanceDecisionForm, RelevanceSettingsForm


def _engagement(request: AuthenticatedHttpRequest, pk: int) -> Engagement:
    return engagement_get(membership=request.membership, engagement_id=pk)


def _review(request: AuthenticatedHttpRequest, pk: int, review_id: int) -> RelevanceReview:
    engagement = _engagement(request, pk)
    return relevance.relevance_review_get(membership=request.membership, engagement=engagement, review_id=review_id)


def _item(request: AuthenticatedHttpRequest, pk: int, review_id: int, item_id: int) -> RelevanceItem:
    review = _review(request, pk, review_id)
    return relevance.relevance_item_get(membership=request.membership, review=review, item_id=item_id)


def _anchor(review: RelevanceReview, item: RelevanceItem) -> str:
    return reverse("governance:relevance_review", args=[review.engagement_id, review.pk]) + f"#kpi-{item.pk}"


def _refused(request: AuthenticatedHttpRequest, exc: PactboardError) -> None:
    if exc.kind in {"not_found", "forbidden"}:
        raise exc
    messages.error(request, str(exc))


@membership_required
def relevance_reviews(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    every = relevance.relevance_every_months(engagement=engagement)
    return render(
        request,
        "governance/relevance_reviews.html",
        {
            "engagement": engagement,
            "reviews": list(relevance.relevance_review_list(engagement=engagement)),
            "every_months": every,
            "settings_form": RelevanceSettingsForm(initial={"every_months": every}),
            "can_open": policy.relevance_may(actor=request.membership, engagement=engagement, action="open").allowed,
        },
    )


@membership_required
@require_POST
def relevance_review_open(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    try:
        review, created = relevance.relevance_review_open(
            actor=request.membership, engagement=engagement, now=timezone.now()
        )
    except PactboardError as exc:
        _refused(request, exc)
        return redirect("governance:relevance_reviews", engagement.pk)
    if not created:
        messages.info(request, "A relevance review is already open: here it is.")
    return redirect("governance:relevance_review", engagement.pk, review.pk)


@membership_required
@require_POST
def relevance_settings(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    form = RelevanceSettingsForm(request.POST)
    if form.is_valid():
        try:
            relevance.relevance_settings_set(
                actor=request.membership, engagement=engagement, every_months=form.cleaned_data["every_months"]
            )
        except PactboardError as exc:
            _refused(request, exc)
        else:
            messages.success(request, f"KPIs are reviewed every {form.cleaned_data['every_months']} months.")
    else:
        messages.error(request, "; ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("governance:relevance_reviews", engagement.pk)


def _review_context(
    request: AuthenticatedHttpRequest,
    review: RelevanceReview,
    *,
    failed: tuple[int, RelevanceDecisionForm | RelevanceCommentForm] | None = None,
) -> dict[str, Any]:
    items = relevance.relevance_items(review=review)
    evidence = relevance_evidence(review=review, items=items, now=timezone.now())
    rows = []
    for item in items:
        decision_form: RelevanceDecisionForm | RelevanceCommentForm = RelevanceDecisionForm(
            initial={
                "decision": item.decision or None,
                "reason": item.reason,
                "new_target": item.new_target,
                "new_amber": item.new_amber,
                "new_stretch": item.new_stretch,
            },
            prefix=f"k{item.pk}",
        )
        comment_form: RelevanceDecisionForm | RelevanceCommentForm = RelevanceCommentForm(prefix=f"c{item.pk}")
        if failed is not None and failed[0] == item.pk:
            if isinstance(failed[1], RelevanceDecisionForm):
                decision_form = failed[1]
            else:
                comment_form = failed[1]
        rows.append(
            {
                "item": item,
                "evidence": evidence[item.kpi_code],
                "decision_form": decision_form,
                "comment_form": comment_form,
            }
        )
    return {
        "engagement": review.engagement,
        "review": review,
        "rows": rows,
        "undecided": sum(1 for i in items if not i.decision),
        **policy.relevance_permissions(actor=request.membership, engagement=review.engagement, is_open=review.is_open),
    }


@membership_required
def relevance_review_detail(request: AuthenticatedHttpRequest, pk: int, review_id: int) -> HttpResponse:
    review = _review(request, pk, review_id)
    return render(request, "governance/relevance_review.html", _review_context(request, review))


@membership_required
@require_POST
def relevance_item_decide(request: AuthenticatedHttpRequest, pk: int, review_id: int, item_id: int) -> HttpResponse:
    item = _item(request, pk, review_id, item_id)
    review = item.review
    form = RelevanceDecisionForm(request.POST, prefix=f"k{item.pk}")
    if form.is_valid():
        try:
            relevance.relevance_item_decide(
                actor=request.membership, item=item, now=timezone.now(), **form.cleaned_data
            )
        except PactboardError as exc:
            if exc.kind in {"not_found", "forbidden"}:
                raise
            form_add_domain_error(form, exc)
        else:
            messages.success(request, f"{item.kpi_name}: {form.cleaned_data['decision']}.")
            return redirect(_anchor(review, item))
    context = _review_context(request, review, failed=(item.pk, form))
    return render(request, "governance/relevance_review.html", context, status=422)


@membership_required
@require_POST
def relevance_item_comment(request: AuthenticatedHttpRequest, pk: int, review_id: int, item_id: int) -> HttpResponse:
    item = _item(request, pk, review_id, item_id)
    review = item.review
    form = RelevanceCommentForm(request.POST, prefix=f"c{item.pk}")
    if form.is_valid():
        try:
            relevance.relevance_comment_add(actor=request.membership, item=item, body=form.cleaned_data["body"])
        except PactboardError as exc:
            if exc.kind in {"not_found", "forbidden"}:
                raise
            form_add_domain_error(form, exc)
        else:
            return redirect(_anchor(review, item))
    context = _review_context(request, review, failed=(item.pk, form))
    return render(request, "governance/relevance_review.html", context, status=422)


@membership_required
@require_POST
def relevance_review_close(request: AuthenticatedHttpRequest, pk: int, review_id: int) -> HttpResponse:
    review = _review(request, pk, review_id)
    try:
        closed = relevance.relevance_review_close(actor=request.membership, review=review, now=timezone.now())
    except PactboardError as exc:
        _refused(request, exc)
    else:
        if closed.draft is not None:
            messages.success(
                request,
                f"Review closed. Draft version {closed.draft.number} holds its changes: propose it for both to sign.",
            )
            return redirect("kpis:version", review.engagement_id, closed.draft.pk)
        messages.success(request, "Review closed: every KPI is kept, so the agreement does not change.")
    return redirect("governance:relevance_review", review.engagement_id, review.pk)
