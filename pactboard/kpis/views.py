"""KPI pages: the catalogue, an engagement's agreement, the draft editor, review, signatures and diffs.

Views are thin: they read through ``selectors``, write through ``services`` and turn a
``PactboardError`` into form errors (or a message for one-button actions).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods, require_POST

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.accounts.models import Membership, Organisation
from pactboard.core.errors import HTTP_STATUS, PactboardError, not_found
from pactboard.core.forms import form_add_domain_error
from pactboard.core.htmx import render_page
from pactboard.core.periods import Period
from pactboard.core.views import membership_required
from pactboard.engagements import selectors as engagement_selectors
from pactboard.engagements.models import Engagement
from pactboard.kpis import selectors, services
from pactboard.kpis.catalogue import CATALOGUE
from pactboard.kpis.content import FieldChange, VersionDiff, plain_decimal
from pactboard.kpis.forms import (
    CommentForm,
    CompareForm,
    CounterProposeForm,
    CustomKpiForm,
    DraftStartForm,
    KpiForm,
    ProposeForm,
    kpi_form_add_domain_error,
    kpi_initial_from_catalogue,
    kpi_initial_from_custom,
    kpi_initial_from_kpi,
    milestone_formset,
)
from pactboard.kpis.models import AgreementVersion, Category, Comment, Direction, Signature, VersionKpi
from pactboard.kpis.policy import version_may, version_permissions

Status = AgreementVersion.Status
OPEN = (Status.DRAFT, Status.PROPOSED)


def _actor(request: AuthenticatedHttpRequest) -> Membership:
    return request.membership


def _reraise_access(exc: PactboardError) -> None:
    """Not-found and forbidden are pages of their own (404, 403), never form errors."""
    if exc.kind in ("not_found", "forbidden"):
        raise exc


def _status_of(exc: PactboardError) -> int:
    return HTTP_STATUS.get(exc.kind, 400)


def _engagement(request: AuthenticatedHttpRequest, pk: int) -> Engagement:
    return engagement_selectors.engagement_get(membership=_actor(request), engagement_id=pk)


def _version(request: AuthenticatedHttpRequest, pk: int, version_id: int) -> AgreementVersion:
    version = selectors.version_get(membership=_actor(request), version_id=version_id)
    if version.engagement_id != pk:
        raise not_found("No such agreement version.")
    return version


def _kpi(request: AuthenticatedHttpRequest, pk: int, version_id: int, kpi_id: int) -> VersionKpi:
    kpi = selectors.version_kpi_get(membership=_actor(request), kpi_id=kpi_id)
    if kpi.version_id != version_id or kpi.version.engagement_id != pk:
        raise not_found("No such KPI.")
    return kpi


def _version_url(version: AgreementVersion, anchor: str = "") -> str:
    url = reverse("kpis:version", args=[version.engagement_id, version.pk])
    return f"{url}#{anchor}" if anchor else url


_NUMBERS = ("target", "amber", "stretch", "weight", "baseline_value", "min_value", "max_value")


def _kpi_row(kpi: VersionKpi, comments: list[Comment] | None = None) -> dict[str, Any]:
    """A KPI with its numbers as plain text ("80", not "80.000000") for display."""
    numbers = {name: plain_decimal(getattr(kpi, name)) for name in _NUMBERS}
    milestones = [
        {
            "date": m.date,
            "target": plain_decimal(m.target),
            "amber": plain_decimal(m.amber),
            "stretch": plain_decimal(m.stretch),
            "note": m.note,
        }
        for m in kpi.milestones.all()
    ]
    objectives = [link.objective for link in kpi.objective_links.all()]
    return {"kpi": kpi, "n": numbers, "milestones": milestones, "objectives": objectives, "comments": comments or []}


# --- catalogue -------------------------------------------------------------------------------


@membership_required
def catalogue(request: AuthenticatedHttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    standard, custom = selectors.catalogue_entries(membership=_actor(request), query=query)
    return render_page(
        request,
        page="kpis/catalogue.html",
        partial="kpis/partials/_catalogue_results.html",
        context={
            "q": query,
            "standard": [
                {"kpi": k, "category": Category(k.category).label, "direction": Direction(k.direction).label}
                for k in standard
            ],
            "custom": custom,
            "total": len(CATALOGUE),
            "can_add": _actor(request).is_manager,
        },
    )


@membership_required
@require_http_methods(["GET", "POST"])
def custom_kpi_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not actor.is_manager:
        raise PermissionDenied("Only administrators and managers add custom KPIs.")
    form = CustomKpiForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                kpi = services.custom_kpi_create(actor=actor, **form.cleaned_data)
            except PactboardError as exc:
                _reraise_access(exc)
                form_add_domain_error(form, exc)
                status = _status_of(exc)
            else:
                messages.success(request, f"Custom KPI “{kpi.name}” added to {actor.organisation.name}'s catalogue.")
                return redirect(f"{reverse('kpis:catalogue')}#custom-{kpi.code}")
    return render(request, "kpis/custom_kpi_form.html", {"form": form}, status=status)


# --- the agreement of an engagement ------------------------------------------------------------


@dataclass(frozen=True)
class PartySignature:
    side: str
    organisation: Organisation
    signature: Signature | None


def _party_signatures(engagement: Engagement, signatures: list[Signature]) -> list[PartySignature]:
    by_org = {s.organisation_id: s for s in signatures}
    return [
        PartySignature("Client", engagement.client, by_org.get(engagement.client_id)),
        PartySignature("Provider", engagement.provider, by_org.get(engagement.provider_id)),
    ]


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


# --- one version: the draft editor and the review page --------------------------------------------


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


def _frozen(request: AuthenticatedHttpRequest, version: AgreementVersion) -> HttpResponse:
    """A proposed or agreed version never changes: say so, and how to change it (409)."""
    message = (
        f"Version {version.number} is {version.get_status_display().lower()} and can no longer change: "
        "start a new draft based on it."
    )
    return render(request, "kpis/frozen.html", {"version": version, "message": message}, status=409)


def _kpi_editor(
    request: AuthenticatedHttpRequest,
    version: AgreementVersion,
    form: KpiForm,
    milestones: Any,
    *,
    kpi: VersionKpi | None,
    status: int,
) -> HttpResponse:
    actor = _actor(request)
    context = {
        "engagement": version.engagement,
        "version": version,
        "kpi": kpi,
        "form": form,
        "milestones": milestones,
        "catalogue": CATALOGUE,
        "custom_kpis": [(f"custom:{c.pk}", c.name) for c in selectors.catalogue_entries(membership=actor)[1]]
        if kpi is None
        else [],
        "start_from": request.GET.get("from", ""),
        "profile": engagement_selectors.provider_profile_for(
            membership=actor, organisation=version.engagement.provider
        ),
    }
    return render(request, "kpis/kpi_form.html", context, status=status)


def _kpi_initial(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    """Pre-fill from ``?from=<catalogue code>`` or ``?from=custom:<id>``."""
    start_from = request.GET.get("from", "")
    if start_from.startswith("custom:"):
        custom = selectors.catalogue_entries(membership=_actor(request))[1]
        entry = next((c for c in custom if str(c.pk) == start_from.removeprefix("custom:")), None)
        return kpi_initial_from_custom(entry) if entry else {}
    standard = next((k for k in CATALOGUE if k.code == start_from), None)
    return kpi_initial_from_catalogue(standard) if standard else {}


def _kpi_form_handle(
    request: AuthenticatedHttpRequest,
    version: AgreementVersion,
    form: KpiForm,
    milestones: Any,
    *,
    kpi: VersionKpi | None,
    save: Callable[[], VersionKpi],
    saved: str,
) -> HttpResponse:
    """The POST half shared by adding and editing a KPI: validate both forms, call ``save``, place its errors."""
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid() & milestones.is_valid():
            try:
                kpi = save()
            except PactboardError as exc:
                _reraise_access(exc)
                kpi_form_add_domain_error(form, milestones, exc)
                status = _status_of(exc)
            else:
                messages.success(request, f"KPI “{kpi.name}” {saved}.")
                return redirect(_version_url(version, f"kpi-{kpi.code}"))
    return _kpi_editor(request, version, form, milestones, kpi=kpi, status=status)


@membership_required
@require_http_methods(["GET", "POST"])
def kpi_create(request: AuthenticatedHttpRequest, pk: int, version_id: int) -> HttpResponse:
    actor = _actor(request)
    version = _version(request, pk, version_id)
    verdict = version_may(actor=actor, version=version, action="edit")
    if verdict.kind == "conflict" and not verdict.allowed:
        return _frozen(request, version)
    if not verdict.allowed:
        raise PermissionDenied(verdict.reason)
    form = KpiForm(request.POST or None, initial=_kpi_initial(request), engagement=version.engagement)
    milestones = milestone_formset(request.POST or None)

    def save() -> VersionKpi:
        return services.version_kpi_add(
            actor=actor,
            version=version,
            objective_ids=form.objective_ids(),
            milestones=milestones.specs(),
            **form.service_fields(),
        )

    return _kpi_form_handle(
        request, version, form, milestones, kpi=None, save=save, saved=f"added to draft version {version.number}"
    )


@membership_required
@require_http_methods(["GET", "POST"])
def kpi_edit(request: AuthenticatedHttpRequest, pk: int, version_id: int, kpi_id: int) -> HttpResponse:
    actor = _actor(request)
    kpi = _kpi(request, pk, version_id, kpi_id)
    version = _version(request, pk, version_id)
    verdict = version_may(actor=actor, version=version, action="edit")
    if verdict.kind == "conflict" and not verdict.allowed:
        return _frozen(request, version)
    if not verdict.allowed:
        raise PermissionDenied(verdict.reason)
    form = KpiForm(request.POST or None, initial=kpi_initial_from_kpi(kpi), engagement=version.engagement)
    milestones = milestone_formset(request.POST or None, kpi=kpi)

    def save() -> VersionKpi:
        return services.version_kpi_update(
            actor=actor,
            kpi=kpi,
            objective_ids=form.objective_ids(),
            milestones=milestones.specs(),
            **form.service_fields(),
        )

    return _kpi_form_handle(request, version, form, milestones, kpi=kpi, save=save, saved="saved")


@membership_required
@require_POST
def kpi_remove(request: AuthenticatedHttpRequest, pk: int, version_id: int, kpi_id: int) -> HttpResponse:
    kpi = _kpi(request, pk, version_id, kpi_id)
    version = _version(request, pk, version_id)
    if not version.is_editable:
        return _frozen(request, version)
    try:
        services.version_kpi_remove(actor=_actor(request), kpi=kpi)
    except PactboardError as exc:
        _reraise_access(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, f"KPI “{kpi.name}” removed from draft version {version.number}.")
    return redirect(_version_url(version, "kpis-h"))


@membership_required
@require_POST
def version_propose(request: AuthenticatedHttpRequest, pk: int, version_id: int) -> HttpResponse:
    version = _version(request, pk, version_id)
    form = ProposeForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            services.version_propose(
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
            services.version_comment(
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
            services.version_sign(actor=actor, version=version)
        else:
            services.version_withdraw(actor=actor, version=version)
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
        draft = services.version_counter_propose(actor=_actor(request), version=version, note=note)
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


# --- diff and awaiting signature ---------------------------------------------------------------

_FIELD_LABELS = {
    "catalogue_code": "Catalogue KPI",
    "amber": "Amber threshold",
    "stretch": "Stretch target",
    "period": "Measured per",
    "source": "Data source",
    "row_filter": "Row filter",
    "min_value": "Lowest possible value",
    "max_value": "Highest possible value",
    "effective_from": "Effective from",
    "max_active_kpis": "Most active KPIs before a warning",
}


def _label(field: str) -> str:
    return _FIELD_LABELS.get(field, field.replace("_", " ").capitalize())


def _shown(value: Any) -> str:
    """A content value as text: canonical decimals, lists of objectives and milestones."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return "; ".join(
                f"{m['date']}: {m['target']}"
                + "".join(f", {k} {m[k]}" for k in ("amber", "stretch") if m.get(k) is not None)
                + (f" ({m['note']})" if m.get("note") else "")
                for m in value
            )
        return ", ".join(str(v) for v in value)
    return str(plain_decimal(value)) if hasattr(value, "normalize") else str(value)


def _change_row(change: FieldChange, kpi: str = "", code: str = "") -> dict[str, str]:
    return {
        "kpi": kpi,
        "code": code,
        "field": _label(change.field),
        "before": _shown(change.before),
        "after": _shown(change.after),
    }


def _diff_rows(
    diff: VersionDiff,
    *,
    draft: bool = False,
    rescored: list[Period] | None = None,
    dates: tuple[date | None, date | None] = (None, None),
) -> dict[str, Any]:
    """The diff as rows; ``rescored`` (with the two versions' ``dates``) names a retroactive effective date."""
    # A draft has no effective date until it is proposed: that is not a change worth showing.
    settings = [c for c in diff.settings if not (draft and c.field == "effective_from" and c.after is None)]
    if rescored and not any(c.field == "effective_from" for c in settings):
        # The same date as the version before is no change of text, but it re-scores history: say so.
        settings.append(FieldChange("effective_from", *dates))
    rows = [_change_row(c) for c in settings]
    for row, change in zip(rows, settings, strict=True):
        if change.field == "effective_from" and rescored:
            row["after"] += f" (retroactive: re-scores {selectors.rescored_text(rescored)})"
    return {
        "added": diff.added,
        "removed": diff.removed,
        "settings": rows,
        "changed": [_change_row(c, kpi.name, kpi.code) for kpi in diff.changed for c in kpi.changes],
        "is_empty": not (diff.added or diff.removed or diff.changed or settings),
    }


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
