"""The agreement and its versions: start a draft, propose, comment, sign, withdraw, counter-propose, compare."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_POST

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.errors import PactboardError
from pactboard.core.forms import form_add_domain_error
from pactboard.core.htmx import render_page
from pactboard.core.views import membership_required
from pactboard.engagements import selectors as engagement_selectors
from pactboard.kpis import negotiation, selectors, services
from pactboard.kpis.catalogue import CATALOGUE
from pactboard.kpis.forms import (
    CommentForm,
    CompareForm,
    CounterProposeForm,
    DraftStartForm,
    ProposeForm,
)
from pactboard.kpis.models import AgreementVersion, Comment
from pactboard.kpis.policy import version_permissions
from pactboard.kpis.views.common import (
    OPEN,
    Status,
    _actor,
    _diff_rows,
    _engagement,
    _kpi_row,
    _party_signatures,
    _reraise_access,
    _status_of,
    _version,
    _version_url,
)


@membership_required
def agreement(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    engagement = _engagement(request, pk)
    versions = list(selectors.version_list(membership=actor, engagement=engagement))
    today = timezone.localdate(timezone=ZoneInfo(engagement.time_zone))
    in_force_ref = selectors.version_in_force(engagement=engagement, on=today)
    # The list already carries each version's signatures (prefetched): reuse its object.
    in_force = next((v for v in versions if in_force_ref and v.pk == in_force_ref.pk), None)
    open_version = next((v for v in versions if v.status in OPEN), None)
    previous = {v.pk: versions[i + 1] if i + 1 < len(versions) else None for i, v in enumerate(versions)}
    rows = [
        {
            "version": v,
            "previous": previous[v.pk],
            "parties": _party_signatures(engagement, list(v.signatures.all())),
            "in_force": in_force is not None and v.pk == in_force.pk,
        }
        for v in versions
    ]
    compare_form = None
    if len(versions) >= 2:
        compare_form = CompareForm(initial={"a": versions[1].pk, "b": versions[0].pk}, versions=versions)
    context = {
        "engagement": engagement,
        "rows": rows,
        "in_force": in_force,
        "in_force_kpis": [_kpi_row(k) for k in selectors.version_kpis(version=in_force)] if in_force else [],
        "in_force_parties": _party_signatures(engagement, list(in_force.signatures.all())) if in_force else [],
        "open_version": open_version,
        "open_parties": _party_signatures(engagement, list(open_version.signatures.all())) if open_version else [],
        "open_warning": selectors.version_kpi_count_warning(version=open_version) if open_version else None,
        "profile": engagement_selectors.provider_profile_for(membership=actor, organisation=engagement.provider),
        "compare_form": compare_form,
        "draft_form": DraftStartForm(),
        "can_manage": actor.is_manager,
    }
    return render(request, "kpis/agreement.html", context)


@membership_required
@require_POST
def draft_start(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    engagement = _engagement(request, pk)
    form = DraftStartForm(request.POST)
    based_on = None
    based_on_id = request.POST.get("based_on", "")
    if based_on_id.isdigit():
        based_on = _version(request, pk, int(based_on_id))
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        draft = services.version_draft_start(actor=actor, engagement=engagement, based_on=based_on, note=note)
    except PactboardError as exc:
        _reraise_access(exc)
        messages.error(request, exc.message)
        return redirect("kpis:agreement", engagement.pk)
    messages.success(request, f"Draft version {draft.number} started: add and edit its KPIs, then propose it.")
    return redirect(_version_url(draft))


def _version_context(request: AuthenticatedHttpRequest, version: AgreementVersion, **forms: Any) -> dict[str, Any]:
    actor = _actor(request)
    engagement = version.engagement
    kpis = list(selectors.version_kpis(version=version))
    # There is no comment selector yet; the version is already scoped to the actor.
    comments = list(selectors.version_comments(version=version))
    by_kpi: dict[str, list[Comment]] = {}
    for comment in comments:
        by_kpi.setdefault(comment.kpi_code, []).append(comment)
    signatures = list(selectors.version_signatures(version=version))
    signed_orgs = {s.organisation_id for s in signatures}
    parties = _party_signatures(engagement, signatures)
    based_on = version.based_on
    changes = selectors.version_diff(before=based_on, after=version) if based_on is not None else None
    now = timezone.now()
    initial_date = selectors.version_next_period_start(version=version, now=now)
    # What signing re-scores: judged now while it can still be signed, as of the agreement once agreed.
    rescored = (
        selectors.version_rescored_periods(version=version, now=version.agreed_at or now)
        if version.status in (Status.PROPOSED, Status.AGREED)
        else []
    )
    return {
        "engagement": engagement,
        "version": version,
        "kpi_rows": [_kpi_row(k, by_kpi.get(k.code, [])) for k in kpis],
        "general_comments": by_kpi.get("", []),
        "parties": parties,
        "remaining": [p for p in parties if p.signature is None],
        "warning": selectors.version_kpi_count_warning(version=version),
        "profile": engagement_selectors.provider_profile_for(membership=actor, organisation=engagement.provider),
        "changes": _diff_rows(
            changes,
            draft=version.is_editable,
            rescored=rescored,
            dates=(based_on.effective_from if based_on else None, version.effective_from),
        )
        if changes is not None
        else None,
        "rescored": rescored,
        "rescored_text": selectors.rescored_text(rescored),
        "catalogue": CATALOGUE,
        "custom_kpis": selectors.catalogue_entries(membership=actor)[1] if version.is_editable else [],
        **version_permissions(actor=actor, version=version, signed_orgs=signed_orgs),
        "propose_form": forms.get("propose_form") or ProposeForm(initial={"effective_from": initial_date}),
        "comment_form": forms.get("comment_form") or CommentForm(),
        "counter_form": forms.get("counter_form") or CounterProposeForm(),
    }


@membership_required
def version_detail(request: AuthenticatedHttpRequest, pk: int, version_id: int) -> HttpResponse:
    version = _version(request, pk, version_id)
    return render(request, "kpis/version.html", _version_context(request, version))


@membership_required
@require_POST
def version_propose(request: AuthenticatedHttpRequest, pk: int, version_id: int) -> HttpResponse:
    version = _version(request, pk, version_id)
    form = ProposeForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            negotiation.version_propose(
                actor=_actor(request),
                version=version,
                effective_from=form.cleaned_data["effective_from"],
                note=form.cleaned_data["note"] or None,
                retroactive=form.cleaned_data["retroactive"],
            )
        except PactboardError as exc:
            _reraise_access(exc)
            form_add_domain_error(form, exc)
            status = _status_of(exc)
        else:
            messages.success(request, f"Version {version.number} proposed: both parties can now review and sign it.")
            return redirect(_version_url(version))
    return render(request, "kpis/version.html", _version_context(request, version, propose_form=form), status=status)


@membership_required
@require_POST
def version_comment(request: AuthenticatedHttpRequest, pk: int, version_id: int) -> HttpResponse:
    version = _version(request, pk, version_id)
    form = CommentForm(request.POST)
    status = 422
    if form.is_valid():
        code = form.cleaned_data["kpi_code"]
        try:
            negotiation.version_comment(
                actor=_actor(request), version=version, body=form.cleaned_data["body"], kpi_code=code
            )
        except PactboardError as exc:
            _reraise_access(exc)
            form_add_domain_error(form, exc)
            status = _status_of(exc)
        else:
            messages.success(request, "Comment added.")
            return redirect(_version_url(version, f"kpi-{code}" if code else "comments-h"))
    return render(request, "kpis/version.html", _version_context(request, version, comment_form=form), status=status)


def _one_button(request: AuthenticatedHttpRequest, pk: int, version_id: int, action: str) -> HttpResponse:
    """Sign, withdraw: a button, then a message saying what happened or why not."""
    actor = _actor(request)
    version = _version(request, pk, version_id)
    try:
        if action == "sign":
            negotiation.version_sign(actor=actor, version=version)
        else:
            negotiation.version_withdraw(actor=actor, version=version)
    except PactboardError as exc:
        _reraise_access(exc)
        messages.error(request, exc.message)
        return redirect(_version_url(version))
    version = _version(request, pk, version_id)
    if action == "withdraw":
        messages.success(request, f"Version {version.number} withdrawn; it stays in the history.")
        return redirect("kpis:agreement", pk)
    if version.status == Status.AGREED and version.effective_from is not None:
        messages.success(
            request,
            f"Signed. Both parties have signed version {version.number}: it is agreed, "
            f"in force from {date_format(version.effective_from, 'j M Y')}.",
        )
    else:
        messages.success(request, f"Signed for {actor.organisation.name}. The other party's signature is awaited.")
    return redirect(_version_url(version))


@membership_required
@require_POST
def version_sign(request: AuthenticatedHttpRequest, pk: int, version_id: int) -> HttpResponse:
    return _one_button(request, pk, version_id, "sign")


@membership_required
@require_POST
def version_withdraw(request: AuthenticatedHttpRequest, pk: int, version_id: int) -> HttpResponse:
    return _one_button(request, pk, version_id, "withdraw")


@membership_required
@require_POST
def version_counter_propose(request: AuthenticatedHttpRequest, pk: int, version_id: int) -> HttpResponse:
    version = _version(request, pk, version_id)
    form = CounterProposeForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        draft = negotiation.version_counter_propose(actor=_actor(request), version=version, note=note)
    except PactboardError as exc:
        _reraise_access(exc)
        messages.error(request, exc.message)
        return redirect(_version_url(version))
    messages.success(
        request,
        f"Version {version.number} is superseded by your draft version {draft.number}: change what you need, "
        "then propose it.",
    )
    return redirect(_version_url(draft))


@membership_required
def version_compare(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    engagement = _engagement(request, pk)
    versions = list(selectors.version_list(membership=actor, engagement=engagement))
    form = CompareForm(request.GET or None, versions=versions)
    diff = before = after = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            before = _version(request, pk, form.cleaned_data["a"])
            after = _version(request, pk, form.cleaned_data["b"])
            rescored = (
                selectors.version_rescored_periods(version=after, now=after.agreed_at or timezone.now())
                if after.status in (Status.PROPOSED, Status.AGREED)
                else []
            )
            diff = _diff_rows(
                selectors.version_diff(before=before, after=after),
                rescored=rescored,
                dates=(before.effective_from, after.effective_from),
            )
        else:
            status = 422
    context = {"engagement": engagement, "form": form, "diff": diff, "before": before, "after": after}
    return render_page(
        request, page="kpis/compare.html", partial="kpis/partials/_diff.html", context=context, status=status
    )


@membership_required
def awaiting_signature(request: AuthenticatedHttpRequest) -> HttpResponse:
    versions = list(selectors.versions_awaiting_signature(membership=_actor(request)))
    return render(request, "kpis/awaiting.html", {"versions": versions})
