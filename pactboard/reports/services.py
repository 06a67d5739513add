"""Writes for reports: edit a draft's texts, finalise (archive) a report, send it, choose recipients, the schedule.

Finalising is safe to run twice and from two workers at once: the report of an engagement and
period is one row (unique), the first transaction to lock it as a draft makes it final, and any
later call returns the final report unchanged. Sending is once per recipient and report
(``governance.notify`` keeps one notification per cause).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.urls import reverse

from pactboard.accounts.models import Membership
from pactboard.audit.services import audit_record
from pactboard.core.errors import PactboardError, not_found
from pactboard.core.locks import for_update
from pactboard.core.periods import Period
from pactboard.core.storage import StorageError, storage
from pactboard.engagements.models import Engagement
from pactboard.governance.notify import Attachment, notify
from pactboard.kpis.selectors import version_in_force
from pactboard.reports import policy
from pactboard.reports.models import Report, ReportRecipient
from pactboard.reports.render import report_filename, report_pdf
from pactboard.reports.selectors import report_data, report_due_period, report_lines, report_recipients

REPORTS_AREA = "reports"  # under the uploads area of the store, so backups hold the archived PDFs
MAX_TEXT = 20_000


def _canonical(data: dict[str, object]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def report_pdf_store(content: bytes) -> tuple[str, str]:
    """Keep a report's PDF in the store, named by its SHA-256; return (its key: the path under the data dir, hash)."""
    digest = hashlib.sha256(content).hexdigest()
    key = f"uploads/{REPORTS_AREA}/{digest}.pdf"
    store = storage()
    if not store.exists(key):
        # Stored atomically: a reader never sees half a file, and an equal file is kept once.
        store.put_bytes(key, content)
    return key, digest


def report_pdf_read(report: Report) -> bytes:
    """The archived PDF of a final report, checked against the hash recorded when it was made."""
    try:
        content = storage().read_bytes(report.pdf_path)
    except StorageError:
        raise PactboardError(
            f"The archived PDF of {report.period} is missing from the store ({report.pdf_path}): restore it "
            "from a backup.",
            kind="conflict",
        ) from None
    if hashlib.sha256(content).hexdigest() != report.pdf_sha256:
        raise PactboardError(
            f"The archived PDF of {report.period} does not match its recorded SHA-256: restore it from a backup.",
            kind="conflict",
        )
    return content


def _report_row(*, engagement: Engagement, period: Period) -> Report:
    """The period's report row, locked; created as a draft if there is none (safe against a concurrent create)."""
    try:
        with transaction.atomic():
            report, _ = for_update(Report.objects.all()).get_or_create(engagement=engagement, period=period.label)
    except IntegrityError:
        report = for_update(Report.objects.all()).get(engagement=engagement, period=period.label)
    return report


def _clean_lines(text: str, field: str) -> str:
    if len(text) > MAX_TEXT:
        raise PactboardError(
            f"The {field} are too long ({len(text):,} characters): keep them under {MAX_TEXT:,}.", kind="invalid"
        )
    return "\n".join(report_lines(text))


def report_texts_save(
    *, actor: Membership, engagement: Engagement, period: Period, successes: str, challenges: str
) -> Report:
    """A manager's successes and challenges for a draft report (one item per line)."""
    successes = _clean_lines(successes, "successes")
    challenges = _clean_lines(challenges, "challenges")
    with transaction.atomic():
        report = _report_row(engagement=engagement, period=period)
        policy.report_require(actor=actor, engagement=engagement, report=report, action="edit")
        before = {"successes": report.successes, "challenges": report.challenges, "texts_edited": report.texts_edited}
        report.successes, report.challenges = successes, challenges
        report.texts_edited, report.texts_edited_by = True, actor.user
        report.save()
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="report.edit",
            obj=report,
            before=before,
            after={"successes": successes, "challenges": challenges, "texts_edited": True},
            engagement_id=engagement.pk,
        )
    return report


def report_texts_reset(*, actor: Membership, engagement: Engagement, period: Period) -> Report:
    """Back to the successes and challenges derived from the data."""
    with transaction.atomic():
        report = _report_row(engagement=engagement, period=period)
        policy.report_require(actor=actor, engagement=engagement, report=report, action="edit")
        before = {"successes": report.successes, "challenges": report.challenges, "texts_edited": report.texts_edited}
        report.successes = report.challenges = ""
        report.texts_edited, report.texts_edited_by = False, None
        report.save()
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="report.reset",
            obj=report,
            before=before,
            after={"successes": "", "challenges": "", "texts_edited": False},
            engagement_id=engagement.pk,
        )
    return report


def report_finalise(*, actor: Membership | None, engagement: Engagement, period: Period, now: datetime) -> Report:
    """Make the period's report final: its data frozen as JSON, its PDF archived, the audit head recorded.

    ``actor`` None: the schedule. Safe to run twice: a report already final is returned as it is.
    """
    existing = Report.objects.filter(engagement=engagement, period=period.label).first()
    if actor is not None:
        policy.report_require(actor=actor, engagement=engagement, report=existing, action="finalise")
    elif existing is not None and existing.is_final:
        return existing
    if version_in_force(engagement=engagement, on=period.start) is None:
        raise PactboardError(
            f"No agreed KPI set is in force in {period.label}: there is nothing to report.", kind="conflict"
        )
    edited = existing is not None and existing.texts_edited
    # Made outside the transaction (the PDF takes a second): the data and its head are one reading.
    data = report_data(
        engagement=engagement,
        period=period,
        now=now,
        successes=report_lines(existing.successes) if edited and existing else None,
        challenges=report_lines(existing.challenges) if edited and existing else None,
    )
    pdf = report_pdf(data=data)
    with transaction.atomic():
        report = _report_row(engagement=engagement, period=period)
        if report.is_final:
            return report  # another worker (or a second run) made it first
        if report.texts_edited != edited or (edited and report_lines(report.successes) != data["successes"]):
            raise PactboardError(
                f"The texts of {period.label} changed while the report was being made: finalise it again.",
                kind="conflict",
            )
        path, pdf_sha = report_pdf_store(pdf)
        report.status = Report.Status.FINAL
        report.data = data
        report.data_sha256 = hashlib.sha256(_canonical(data)).hexdigest()
        report.pdf_path, report.pdf_sha256 = path, pdf_sha
        report.head_seq, report.head_hash = data["audit"]["seq"], data["audit"]["head_hash"]
        report.finalised_at = now
        report.finalised_by = actor.user if actor is not None else None
        report.save()
        audit_record(
            actor=actor.user if actor is not None else None,
            organisation=actor.organisation if actor is not None else None,
            action="report.finalise",
            obj=report,
            after={
                "period": period.label,
                "head_seq": report.head_seq,
                "head_hash": report.head_hash,
                "data_sha256": report.data_sha256,
                "pdf_sha256": pdf_sha,
            },
            engagement_id=engagement.pk,
        )
    return report


def report_send(*, report: Report, now: datetime) -> int:
    """E-mail a final report's PDF to each party's recipients (once per recipient); return how many were new."""
    if not report.is_final:
        raise PactboardError("Only a final report is sent: finalise it first.", kind="conflict")
    engagement = report.engagement
    recipients = [r.membership for r in report_recipients(engagement=engagement)]
    if not recipients:
        return 0
    assert report.data is not None
    pdf = report_pdf_read(report)
    summary = report.data["summary"]["text"]
    with transaction.atomic():
        rows = notify(
            recipients=recipients,
            kind="report.sent",
            cause_key=f"report:{report.pk}",
            title=f"Report {report.period} · {engagement.name}",
            body=f"The {engagement.report_cadence} report of {engagement.name} for {report.period} is attached. "
            f"{summary} Audit head when made: {report.head_hash}.",
            url=reverse("reports:report", args=[engagement.pk, report.period]),
            engagement_id=engagement.pk,
            now=now,
            attachments=[Attachment(report_filename(report.data, "pdf"), pdf, "application/pdf")],
        )
    return len(rows)


@dataclass(frozen=True)
class DueResult:
    engagement_id: int
    period: str
    report_id: int
    sent: int


def reports_due_send(*, now: datetime) -> list[DueResult]:
    """For each engagement whose report period has closed: make that period's report once, archive it, mail it."""
    results: list[DueResult] = []
    engagements = Engagement.objects.filter(
        status__in=[Engagement.Status.ACTIVE, Engagement.Status.ENDED]
    ).select_related("client", "provider")
    for engagement in engagements.order_by("pk"):
        period = report_due_period(engagement=engagement, now=now)
        if period is None or version_in_force(engagement=engagement, on=period.start) is None:
            continue
        report = report_finalise(actor=None, engagement=engagement, period=period, now=now)
        results.append(DueResult(engagement.pk, period.label, report.pk, report_send(report=report, now=now)))
    return results


def report_recipient_add(*, actor: Membership, engagement: Engagement, membership_id: int) -> ReportRecipient:
    """Add a member of the actor's own party to the engagement's report recipients (once)."""
    member = Membership.objects.select_related("user", "organisation").filter(pk=membership_id).first()
    if member is None or engagement.party_role(member.organisation_id) is None:
        raise not_found("No such member of this engagement's parties.")
    policy.recipients_require(actor=actor, engagement=engagement, member=member)
    with transaction.atomic():
        recipient, created = ReportRecipient.objects.get_or_create(
            engagement=engagement, membership=member, defaults={"added_by": actor.user}
        )
        if created:
            audit_record(
                actor=actor.user,
                organisation=actor.organisation,
                action="report.recipient.add",
                obj=recipient,
                after={"membership_id": member.pk, "email": member.user.email},
                engagement_id=engagement.pk,
            )
    return recipient


def report_recipient_remove(*, actor: Membership, recipient: ReportRecipient) -> None:
    engagement = recipient.engagement
    policy.recipients_require(actor=actor, engagement=engagement, member=recipient.membership)
    with transaction.atomic():
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="report.recipient.remove",
            obj=recipient,
            before={"membership_id": recipient.membership_id, "email": recipient.membership.user.email},
            engagement_id=engagement.pk,
        )
        recipient.delete()
