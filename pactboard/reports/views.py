"""Report pages: the archive, one period's report (draft or final) with its downloads, recipients, scorecard downloads.

Views are thin: they read through ``selectors``, write through ``services`` and ask ``policy`` which
buttons to show. Every page starts from ``engagement_get`` of the actor, so another tenant's
engagement is a 404.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.errors import HTTP_STATUS, PactboardError
from pactboard.core.periods import Period, local_date
from pactboard.core.vega import vega_bundle_ready
from pactboard.core.views import membership_required
from pactboard.engagements.models import Engagement
from pactboard.engagements.selectors import engagement_get
from pactboard.reports import policy, selectors, services
from pactboard.reports.charts import report_charts
from pactboard.reports.render import (
    CONTENT_TYPES,
    report_csv,
    report_filename,
    report_pdf,
    report_xlsx,
    scorecard_csv,
    scorecard_xlsx,
)

DOWNLOADS = ("pdf", "xlsx", "csv")


def _engagement(request: AuthenticatedHttpRequest, pk: int) -> Engagement:
    return engagement_get(membership=request.membership, engagement_id=pk)


def _period(engagement: Engagement, label: str) -> Period:
    try:
        return selectors.report_period_parse(engagement=engagement, label=label, now=timezone.now())
    except PactboardError as exc:
        raise Http404(exc.message) from None


def _file(content: bytes | str, *, fmt: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@membership_required
@require_GET
def archive(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The engagement's archived reports, and a form to open any period's report."""
    engagement = _engagement(request, pk)
    due = selectors.report_due_period(engagement=engagement, now=timezone.now())
    context = {
        "engagement": engagement,
        "archive": list(selectors.report_archive(engagement=engagement)),
        "drafts": [r for r in selectors.report_drafts(engagement=engagement) if r.texts_edited],
        "kind": selectors.report_kind(engagement),
        "suggested": due.label if due else "",
        "formats": DOWNLOADS,
        "error": request.GET.get("error", "")[:300],
    }
    return render(request, "reports/archive.html", context)


@membership_required
@require_GET
def open_period(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The archive's form: go to the report of the period typed, or back with the reason it cannot be opened."""
    engagement = _engagement(request, pk)
    label = request.GET.get("period", "").strip()[:16]
    try:
        period = selectors.report_period_parse(engagement=engagement, label=label, now=timezone.now())
    except PactboardError as exc:
        context = {
            "engagement": engagement,
            "archive": list(selectors.report_archive(engagement=engagement)),
            "drafts": [],
            "kind": selectors.report_kind(engagement),
            "suggested": label,
            "formats": DOWNLOADS,
            "error": exc.message,
        }
        return render(request, "reports/archive.html", context, status=422)
    return redirect("reports:report", engagement.pk, period.label)


@membership_required
@require_http_methods(["GET", "POST"])
def report(request: AuthenticatedHttpRequest, pk: int, period: str) -> HttpResponse:
    """One period's report: the archived one if final, else the draft as the data stands now; managers edit texts."""
    engagement = _engagement(request, pk)
    chosen = _period(engagement, period)
    error, status = "", 200
    if request.method == "POST":
        try:
            if request.POST.get("reset"):
                services.report_texts_reset(actor=request.membership, engagement=engagement, period=chosen)
            else:
                services.report_texts_save(
                    actor=request.membership,
                    engagement=engagement,
                    period=chosen,
                    successes=request.POST.get("successes", ""),
                    challenges=request.POST.get("challenges", ""),
                )
        except PactboardError as exc:
            if exc.kind in ("not_found", "forbidden"):
                raise
            error, status = exc.message, HTTP_STATUS.get(exc.kind, 422)
        else:
            messages.success(request, f"Saved the texts of {chosen.label}.")
            return redirect("reports:report", engagement.pk, chosen.label)
    view = selectors.report_view(engagement=engagement, period=chosen, now=timezone.now())
    data = view.data
    charts = report_charts(data)
    if charts:
        vega_bundle_ready()
    today = local_date(timezone.now(), engagement.time_zone)
    permissions = policy.report_permissions(actor=request.membership, engagement=engagement, report=view.report)
    context = {
        "engagement": engagement,
        "period": chosen,
        "view": view,
        "data": data,
        # The web page draws each spec with vega-embed: (chart, id of its JSON script).
        "charts": [(c, f"{c.id}-spec") for c in charts],
        "pdf": False,
        "formats": DOWNLOADS,
        "successes_text": "\n".join(data["successes"]),
        "challenges_text": "\n".join(data["challenges"]),
        "error": error,
        "previous": chosen.previous() if chosen.previous().last_day >= engagement.start_date else None,
        "next": chosen.next() if chosen.next().start <= min(today, engagement.end_date) else None,
        **permissions,
    }
    return render(request, "reports/report.html", context, status=status)


@membership_required
@require_POST
def finalise(request: AuthenticatedHttpRequest, pk: int, period: str) -> HttpResponse:
    engagement = _engagement(request, pk)
    chosen = _period(engagement, period)
    try:
        services.report_finalise(actor=request.membership, engagement=engagement, period=chosen, now=timezone.now())
    except PactboardError as exc:
        if exc.kind in ("not_found", "forbidden"):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The report of {chosen.label} is final and archived.")
    return redirect("reports:report", engagement.pk, chosen.label)


@membership_required
@require_GET
def download(request: AuthenticatedHttpRequest, pk: int, period: str, fmt: str) -> HttpResponse:
    """A report as PDF, XLSX, CSV or JSON: a final report's archived PDF and stored data, else the live draft."""
    engagement = _engagement(request, pk)
    chosen = _period(engagement, period)
    if fmt not in (*DOWNLOADS, "json"):
        raise Http404("Reports download as pdf, xlsx, csv or json.")
    view = selectors.report_view(engagement=engagement, period=chosen, now=timezone.now())
    name = report_filename(view.data, fmt)
    if fmt == "pdf":
        content: bytes | str = (
            services.report_pdf_read(view.report) if view.is_final and view.report else report_pdf(data=view.data)
        )
    elif fmt == "xlsx":
        content = report_xlsx(data=view.data)
    elif fmt == "csv":
        content = report_csv(data=view.data)
    else:
        content = json.dumps(view.data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
    return _file(content, fmt=fmt, filename=name)


@membership_required
@require_http_methods(["GET", "POST"])
def recipients(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Who receives the scheduled reports; each party's managers add members of their own organisation."""
    engagement = _engagement(request, pk)
    error, status = "", 200
    if request.method == "POST":
        try:
            membership_id = int(request.POST.get("membership", ""))
        except ValueError:
            error, status = "Pick a member to add.", 422
        else:
            try:
                services.report_recipient_add(
                    actor=request.membership, engagement=engagement, membership_id=membership_id
                )
            except PactboardError as exc:
                if exc.kind == "forbidden":
                    raise
                error, status = exc.message, HTTP_STATUS.get(exc.kind, 422)
            else:
                return redirect("reports:recipients", engagement.pk)
    can_manage = policy.recipients_may(actor=request.membership, engagement=engagement).allowed
    context = {
        "engagement": engagement,
        "recipients": list(selectors.report_recipients(engagement=engagement)),
        "candidates": list(selectors.report_recipient_candidates(engagement=engagement, membership=request.membership))
        if can_manage
        else [],
        "can_manage": can_manage,
        "error": error,
    }
    return render(request, "reports/recipients.html", context, status=status)


@membership_required
@require_POST
def recipient_remove(request: AuthenticatedHttpRequest, pk: int, recipient_id: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    recipient = selectors.report_recipient_get(
        membership=request.membership, engagement=engagement, recipient_id=recipient_id
    )
    services.report_recipient_remove(actor=request.membership, recipient=recipient)
    return redirect(reverse("reports:recipients", args=[engagement.pk]))


@membership_required
@require_GET
def scorecard_download(request: AuthenticatedHttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The scorecard page's table as CSV or XLSX (``?period=2026-10``, default: last month)."""
    engagement = _engagement(request, pk)
    if fmt not in ("csv", "xlsx"):
        raise Http404("The scorecard downloads as csv or xlsx.")
    label = request.GET.get("period", "").strip()[:16]
    if label:
        try:
            period = Period.parse(label)
        except PactboardError as exc:
            return HttpResponse(exc.message, status=422, content_type="text/plain; charset=utf-8")
    else:
        period = Period.containing("month", timezone.now(), engagement.time_zone).previous()
    data = selectors.scorecard_export_data(engagement=engagement, period=period)
    name = f"scorecard-{engagement.pk}-{period.label}.{fmt}"
    if fmt == "csv":
        return _file(scorecard_csv(data=data), fmt=fmt, filename=name)
    return _file(scorecard_xlsx(data=data), fmt=fmt, filename=name)
