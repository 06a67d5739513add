"""Incentive pages: settlements of an engagement with the renewal recommendation, one settlement with its
approvals, exports and what-if panel, and a version's scheme with its backtest.

Views are thin: they read through ``selectors``, write through ``services`` and ask ``policy``
which buttons to show.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.errors import HTTP_STATUS, PactboardError
from pactboard.core.htmx import render_page
from pactboard.core.views import membership_required
from pactboard.engagements.models import Engagement
from pactboard.engagements.selectors import engagement_get
from pactboard.incentives import policy, selectors, services
from pactboard.incentives.calc import settlement_what_if
from pactboard.incentives.calc.settlement import PeriodFigures
from pactboard.incentives.exports import statement_csv, statement_xlsx
from pactboard.incentives.models import Settlement
from pactboard.incentives.pdf import settlement_pdf
from pactboard.incentives.statements import statement_to_json, values_from_json
from pactboard.kpis import policy as kpi_policy
from pactboard.kpis.models import AgreementVersion
from pactboard.kpis.selectors import version_get, version_list


def _engagement(request: AuthenticatedHttpRequest, pk: int) -> Engagement:
    try:
        return engagement_get(membership=request.membership, engagement_id=pk)
    except PactboardError as exc:
        raise Http404(exc.message) from None


def _settlement(request: AuthenticatedHttpRequest, engagement: Engagement, settlement_id: int) -> Settlement:
    try:
        settlement = selectors.settlement_get(membership=request.membership, settlement_id=settlement_id)
    except PactboardError as exc:
        raise Http404(exc.message) from None
    if settlement.engagement_id != engagement.pk:
        raise Http404("No such settlement.")
    return settlement


def _version(request: AuthenticatedHttpRequest, engagement: Engagement, version_id: int) -> AgreementVersion:
    try:
        version = version_get(membership=request.membership, version_id=version_id)
    except PactboardError as exc:
        raise Http404(exc.message) from None
    if version.engagement_id != engagement.pk:
        raise Http404("No such agreement version.")
    return version


@membership_required
@require_http_methods(["GET", "POST"])
def settlements(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The engagement's settlements, the form to draft one, and the renewal recommendation."""
    engagement = _engagement(request, pk)
    error = ""
    status = 200
    if request.method == "POST":
        try:
            settlement = services.settlement_draft(
                actor=request.membership, engagement=engagement, period=request.POST.get("period", "").strip()
            )
        except PactboardError as exc:
            if exc.kind == "not_found":
                raise Http404(exc.message) from None
            error, status = str(exc), HTTP_STATUS.get(exc.kind, 422)
        else:
            return redirect("incentives:settlement", engagement.pk, settlement.pk)
    rows = list(selectors.settlement_list(engagement=engagement))
    context = {
        "engagement": engagement,
        "settlements": rows,
        "can_draft": policy.settlement_draft_may(actor=request.membership, engagement=engagement).allowed,
        "renewal": selectors.renewal_for(engagement=engagement),
        "versions": [v for v in version_list(membership=request.membership, engagement=engagement)],
        "error": error,
        "period": request.POST.get("period", ""),
    }
    return render(request, "incentives/settlements.html", context, status=status)


def _what_if_context(settlement: Settlement, data: dict[str, str] | None) -> dict[str, Any]:
    """The what-if panel: each KPI's value as settled, and the statement with the values typed (nothing stored)."""
    inputs = settlement.inputs
    values = values_from_json(inputs["values"])
    rows = [{"code": code, "value": "" if v is None else format(v, "f")} for code, v in values.items()]
    context: dict[str, Any] = {"settlement": settlement, "what_if_rows": rows, "what_if": None, "what_if_errors": []}
    if data is None:
        return context
    changes: dict[str, Decimal | None] = {}
    errors = []
    for row in rows:
        raw = (data.get(f"kpi_{row['code']}") or "").strip()
        row["value"] = raw
        try:
            new = Decimal(raw) if raw else None
            if new is not None and not new.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            errors.append(f"{row['code']}: {raw!r} is not a number; type a value such as 88.5, or leave it empty.")
            continue
        if new != values.get(row["code"]):
            changes[row["code"]] = new
    if errors:
        context["what_if_errors"] = errors
        return context
    terms = selectors.scheme_terms(version=settlement.version)
    assert terms is not None
    result = settlement_what_if(
        scheme=terms.scheme,
        figures=PeriodFigures(
            period=settlement.period,
            values=values,
            fee_bases={k: Decimal(v) for k, v in inputs["fee_bases"].items()},
        ),
        changes=changes,
        before=[values_from_json(v) for v in inputs["before"]],
        after=[values_from_json(v) for v in inputs["after"]],
    )
    context["what_if"] = {
        "statement": statement_to_json(result.changed),
        "actual_net": result.actual.net,
        "net_change": result.net_change,
        "changes": changes,
    }
    return context


@membership_required
@require_GET
def settlement(request: AuthenticatedHttpRequest, pk: int, settlement_id: int) -> HttpResponse:
    """One settlement: its lines with the numbers behind them, totals, approvals, exports, what-if."""
    engagement = _engagement(request, pk)
    found = _settlement(request, engagement, settlement_id)
    context = {
        "engagement": engagement,
        "statement": found.statement,
        **policy.settlement_permissions(actor=request.membership, settlement=found),
        **_what_if_context(found, None),
    }
    return render(request, "incentives/settlement.html", context)


@membership_required
@require_GET
def what_if(request: AuthenticatedHttpRequest, pk: int, settlement_id: int) -> HttpResponse:
    """The settlement recomputed with the values typed; nothing is stored (the panel's HTMX partial)."""
    engagement = _engagement(request, pk)
    found = _settlement(request, engagement, settlement_id)
    context = {"engagement": engagement, **_what_if_context(found, request.GET.dict())}
    status = 422 if context["what_if_errors"] else 200
    return render_page(
        request,
        page="incentives/what_if.html",
        partial="incentives/partials/_what_if.html",
        context=context,
        status=status,
    )


@membership_required
@require_POST
def settlement_action(request: AuthenticatedHttpRequest, pk: int, settlement_id: int, action: str) -> HttpResponse:
    """Approve for one's side, or recompute a draft."""
    engagement = _engagement(request, pk)
    found = _settlement(request, engagement, settlement_id)
    try:
        if action == "approve":
            found = services.settlement_approve(actor=request.membership, settlement=found)
            messages.success(request, "Settlement final." if found.is_final else "Approved for your side.")
        elif action == "recompute":
            services.settlement_draft(actor=request.membership, engagement=engagement, period=found.period)
            messages.success(request, "Draft recomputed from the values as they stand.")
        else:
            raise Http404("No such action.")
    except PactboardError as exc:
        messages.error(request, str(exc))
    return redirect("incentives:settlement", engagement.pk, found.pk)


@membership_required
@require_GET
def settlement_export(request: AuthenticatedHttpRequest, pk: int, settlement_id: int, fmt: str) -> HttpResponse:
    """The statement as CSV, XLSX or PDF."""
    engagement = _engagement(request, pk)
    found = _settlement(request, engagement, settlement_id)
    name = f"settlement-{engagement.pk}-{found.period}"
    if fmt == "csv":
        response = HttpResponse(statement_csv(statement=found.statement), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        title = f"{engagement.name} · settlement {found.period} ({found.get_status_display()})"
        response = HttpResponse(
            statement_xlsx(statement=found.statement, title=title),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    elif fmt == "pdf":
        response = HttpResponse(
            settlement_pdf(settlement=found, made_at=timezone.now()), content_type="application/pdf"
        )
    else:
        raise Http404("No such format.")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@membership_required
@require_http_methods(["GET", "POST"])
def scheme(request: AuthenticatedHttpRequest, pk: int, version_id: int) -> HttpResponse:
    """A version's scheme as stored (editable on a draft) and, on a draft or proposal, its backtest."""
    engagement = _engagement(request, pk)
    version = _version(request, engagement, version_id)
    can_edit = kpi_policy.version_may(actor=request.membership, version=version, action="edit").allowed
    text = json.dumps(version.incentive_scheme, indent=2) if version.incentive_scheme is not None else ""
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        text = request.POST.get("scheme", "")
        try:
            data = json.loads(text) if text.strip() else None
        except json.JSONDecodeError as exc:
            errors.append(f"The scheme is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}.")
            status = 422
        else:
            try:
                services.version_scheme_set(actor=request.membership, version=version, scheme=data)
            except PactboardError as exc:
                if exc.kind == "not_found":
                    raise Http404(exc.message) from None
                errors.extend([str(d) for d in exc.details] or [exc.message])
                status = HTTP_STATUS.get(exc.kind, 422)
            else:
                messages.success(request, "Incentive scheme saved in the draft.")
                return redirect("incentives:scheme", engagement.pk, version.pk)
    backtest = None
    backtest_error = ""
    if version.status in (AgreementVersion.Status.DRAFT, AgreementVersion.Status.PROPOSED) and not errors:
        try:
            terms = selectors.scheme_terms(version=version)
            backtest = selectors.scheme_backtest(engagement=engagement, terms=terms) if terms else None
        except PactboardError as exc:
            backtest_error = str(exc)
    context = {
        "engagement": engagement,
        "version": version,
        "can_edit": can_edit,
        "text": text,
        "errors": errors,
        "backtest": backtest,
        "backtest_error": backtest_error,
    }
    return render(request, "incentives/scheme.html", context, status=status)
