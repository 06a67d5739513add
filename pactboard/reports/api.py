"""REST endpoints: the report archive, a period's report data, its downloads and texts, finalising, recipients."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpResponse
from django.utils import timezone
from ninja import Schema

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.api import ApiRouter, Mapped, file_answer, mapped, paged
from pactboard.core.periods import Period
from pactboard.engagements.models import Engagement
from pactboard.engagements.selectors import engagement_get
from pactboard.reports import selectors, services
from pactboard.reports.models import Report, ReportRecipient
from pactboard.reports.render import (
    CONTENT_TYPES,
    report_csv,
    report_filename,
    report_pdf,
    report_xlsx,
    scorecard_csv,
    scorecard_xlsx,
)

router = ApiRouter(tags=["reports"])


class ArchivedReportOut(Schema):
    id: int
    period: str
    finalised_at: datetime | None
    head_seq: int | None
    head_hash: str
    pdf_sha256: str
    data_sha256: str


class RecipientOut(Schema):
    id: int
    membership_id: int
    email: str
    organisation: str


def _engagement_period(request: AuthenticatedHttpRequest, engagement_id: int, period: str) -> tuple[Engagement, Period]:
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    return engagement, selectors.report_period_parse(engagement=engagement, label=period, now=timezone.now())


def _archived(report: Report) -> dict[str, Any]:
    return {
        "id": report.pk,
        "period": report.period,
        "finalised_at": report.finalised_at,
        "head_seq": report.head_seq,
        "head_hash": report.head_hash,
        "pdf_sha256": report.pdf_sha256,
        "data_sha256": report.data_sha256,
    }


def _recipient(r: ReportRecipient) -> dict[str, Any]:
    return {
        "id": r.pk,
        "membership_id": r.membership_id,
        "email": r.membership.user.email,
        "organisation": r.membership.organisation.name,
    }


@router.get("/{engagement_id}/reports", response=list[ArchivedReportOut])
@paged
def list_reports(request: AuthenticatedHttpRequest, engagement_id: int) -> Mapped[Report, dict[str, Any]]:
    """The archive: every final report, newest period first, with its audit head and file hashes."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    return mapped(selectors.report_archive(engagement=engagement), _archived)


@router.get("/{engagement_id}/reports/{period}")
def get_report(request: AuthenticatedHttpRequest, engagement_id: int, period: str) -> dict[str, Any]:
    """A period's report data (docs/reports.md): the archived data if final, else as the data stands now."""
    engagement, chosen = _engagement_period(request, engagement_id, period)
    view = selectors.report_view(engagement=engagement, period=chosen, now=timezone.now())
    return {"status": "final" if view.is_final else "draft", "data": view.data}


@router.get(
    "/{engagement_id}/reports/{period}/download/{fmt}",
    **file_answer(*(CONTENT_TYPES[f] for f in ("pdf", "xlsx", "csv")), description="The report as pdf, xlsx or csv."),
)
def download_report(request: AuthenticatedHttpRequest, engagement_id: int, period: str, fmt: str) -> HttpResponse:
    """The report as pdf, xlsx or csv (a final report's PDF is the archived file, byte for byte)."""
    engagement, chosen = _engagement_period(request, engagement_id, period)
    view = selectors.report_view(engagement=engagement, period=chosen, now=timezone.now())
    if fmt == "pdf":
        content: bytes | str = (
            services.report_pdf_read(view.report) if view.is_final and view.report else report_pdf(data=view.data)
        )
    elif fmt == "xlsx":
        content = report_xlsx(data=view.data)
    elif fmt == "csv":
        content = report_csv(data=view.data)
    else:
        raise Http404
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{report_filename(view.data, fmt)}"'
    return response


class TextsIn(Schema):
    successes: list[str]
    challenges: list[str]


@router.put("/{engagement_id}/reports/{period}/texts")
def set_report_texts(
    request: AuthenticatedHttpRequest, engagement_id: int, period: str, payload: TextsIn
) -> dict[str, Any]:
    """Replace a draft's successes and challenges (managers of either party)."""
    engagement, chosen = _engagement_period(request, engagement_id, period)
    services.report_texts_save(
        actor=request.membership,
        engagement=engagement,
        period=chosen,
        successes="\n".join(payload.successes),
        challenges="\n".join(payload.challenges),
    )
    view = selectors.report_view(engagement=engagement, period=chosen, now=timezone.now())
    return {"status": "draft", "data": view.data}


@router.post("/{engagement_id}/reports/{period}/finalise", response=ArchivedReportOut)
def finalise_report(request: AuthenticatedHttpRequest, engagement_id: int, period: str) -> dict[str, Any]:
    """Freeze the report: data and PDF archived, the engagement's audit head recorded."""
    engagement, chosen = _engagement_period(request, engagement_id, period)
    report = services.report_finalise(
        actor=request.membership, engagement=engagement, period=chosen, now=timezone.now()
    )
    return _archived(report)


@router.get("/{engagement_id}/report-recipients", response=list[RecipientOut])
@paged
def list_report_recipients(
    request: AuthenticatedHttpRequest, engagement_id: int
) -> Mapped[ReportRecipient, dict[str, Any]]:
    """Who receives the scheduled reports by e-mail, from both parties, by organisation and e-mail."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    return mapped(selectors.report_recipients(engagement=engagement), _recipient)


class RecipientIn(Schema):
    membership_id: int


@router.post("/{engagement_id}/report-recipients", response=RecipientOut)
def add_report_recipient(request: AuthenticatedHttpRequest, engagement_id: int, payload: RecipientIn) -> dict[str, Any]:
    """Add a member of the caller's own organisation (managers)."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    recipient = services.report_recipient_add(
        actor=request.membership, engagement=engagement, membership_id=payload.membership_id
    )
    found = selectors.report_recipients(engagement=engagement).get(pk=recipient.pk)
    return _recipient(found)


@router.delete("/{engagement_id}/report-recipients/{recipient_id}")
def remove_report_recipient(request: AuthenticatedHttpRequest, engagement_id: int, recipient_id: int) -> dict[str, Any]:
    """Remove a recipient of the caller's own organisation (managers)."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    recipient = selectors.report_recipient_get(
        membership=request.membership, engagement=engagement, recipient_id=recipient_id
    )
    services.report_recipient_remove(actor=request.membership, recipient=recipient)
    return {"removed": recipient_id}


@router.get(
    "/{engagement_id}/scorecard/export/{fmt}",
    **file_answer(CONTENT_TYPES["csv"], CONTENT_TYPES["xlsx"], description="The scorecard as csv or xlsx."),
)
def export_scorecard(request: AuthenticatedHttpRequest, engagement_id: int, fmt: str, period: str) -> HttpResponse:
    """A period's scorecard as csv or xlsx (the scorecard page's table)."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    chosen = Period.parse(period)
    data = selectors.scorecard_export_data(engagement=engagement, period=chosen)
    if fmt == "csv":
        content: bytes | str = scorecard_csv(data=data)
    elif fmt == "xlsx":
        content = scorecard_xlsx(data=data)
    else:
        raise Http404
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="scorecard-{engagement.pk}-{chosen.label}.{fmt}"'
    return response
