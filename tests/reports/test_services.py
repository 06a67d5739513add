"""Drafts, finalising into the archive, the schedule (once, safe twice), recipients and the head hash."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection

from pactboard.audit.guard import guard_install, guard_remove
from pactboard.audit.models import AuditEvent
from pactboard.audit.selectors import audit_engagement_verify, audit_head
from pactboard.core.errors import PactboardError
from pactboard.core.periods import Period
from pactboard.measurements.services import measurement_record
from pactboard.reports import services
from pactboard.reports.models import FinalReportError, Report
from pactboard.reports.selectors import report_view
from tests.conftest import World
from tests.reports.conftest import NOW, OCTOBER

pytestmark = pytest.mark.django_db


def test_managers_edit_a_draft_and_finalising_freezes_it(reported: World):
    services.report_texts_save(
        actor=reported.provider_manager,
        engagement=reported.engagement,
        period=OCTOBER,
        successes="QA back on target\n\n  Backlog cleared  ",
        challenges="=escalations",
    )
    view = report_view(engagement=reported.engagement, period=OCTOBER, now=NOW)
    assert view.data["successes"] == ["QA back on target", "Backlog cleared"]
    assert view.data["texts_edited"] is True
    report = services.report_finalise(
        actor=reported.client_manager, engagement=reported.engagement, period=OCTOBER, now=NOW
    )
    assert report.is_final
    assert report.data is not None
    assert report.data["challenges"] == ["=escalations"]
    pdf = Path(settings.DATA_DIR) / report.pdf_path
    assert pdf.read_bytes().startswith(b"%PDF")
    assert services.report_pdf_read(report)
    # A later value does not change the archived report: it reads back as it was made.
    measurement_record(
        actor=reported.provider_manager,
        engagement=reported.engagement,
        kpi_code="escalations",
        period=OCTOBER,
        value=Decimal(9),
        reason="recount",
    )
    again = report_view(engagement=reported.engagement, period=OCTOBER, now=NOW + timedelta(days=1))
    assert again.is_final
    assert again.data == report.data
    assert next(k for k in again.data["kpis"] if k["code"] == "escalations")["value"] == "18"
    # Nobody edits it afterwards, through the services or the model.
    with pytest.raises(PactboardError, match="final") as refused:
        services.report_texts_save(
            actor=reported.client_manager, engagement=reported.engagement, period=OCTOBER, successes="x", challenges=""
        )
    assert refused.value.kind == "conflict"
    report.successes = "changed"
    with pytest.raises(FinalReportError):
        report.save()
    with pytest.raises(FinalReportError):
        report.delete()


def test_viewers_read_but_do_not_edit_or_finalise(reported: World):
    with pytest.raises(PactboardError) as refused:
        services.report_finalise(actor=reported.client_viewer, engagement=reported.engagement, period=OCTOBER, now=NOW)
    assert refused.value.kind == "forbidden"
    assert not Report.objects.exists()


def test_the_schedule_makes_each_report_once_and_mails_it_once(reported: World, django_capture_on_commit_callbacks):
    services.report_recipient_add(
        actor=reported.client_manager, engagement=reported.engagement, membership_id=reported.client_viewer.pk
    )
    services.report_recipient_add(
        actor=reported.provider_manager, engagement=reported.engagement, membership_id=reported.provider_manager.pk
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        first = services.reports_due_send(now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.reports_due_send(now=NOW + timedelta(hours=1))  # run again, as a second worker would
    assert [(r.period, r.sent) for r in first] == [("2026-10", 2)]
    assert [(r.period, r.sent) for r in second] == [("2026-10", 0)]
    assert Report.objects.filter(engagement=reported.engagement).count() == 1
    report = Report.objects.get()
    assert report.is_final
    assert report.finalised_by is None
    assert AuditEvent.objects.filter(action="report.finalise").count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["pedro@helpline.example", "victor@acme.example"]
    _name, content, mimetype = mail.outbox[0].attachments[0]
    assert mimetype == "application/pdf"
    assert content == services.report_pdf_read(report)
    assert report.head_hash in mail.outbox[0].body


def test_finalising_twice_returns_the_one_archived_report(reported: World):
    one = services.report_finalise(actor=None, engagement=reported.engagement, period=OCTOBER, now=NOW)
    two = services.report_finalise(actor=None, engagement=reported.engagement, period=OCTOBER, now=NOW)
    assert one.pk == two.pk
    assert one.pdf_sha256 == two.pdf_sha256


def test_each_party_chooses_its_own_recipients(reported: World):
    with pytest.raises(PactboardError, match="own"):
        services.report_recipient_add(
            actor=reported.client_manager, engagement=reported.engagement, membership_id=reported.provider_manager.pk
        )
    with pytest.raises(PactboardError) as outside:
        services.report_recipient_add(
            actor=reported.client_manager, engagement=reported.engagement, membership_id=reported.outsider.pk
        )
    assert outside.value.kind == "not_found"


def test_the_report_head_hash_detects_deletion_of_the_newest_events(reported: World):
    """docs/audit.md: deleting the newest events leaves a chain that still links; only a kept head shows it."""
    report = services.report_finalise(
        actor=reported.client_manager, engagement=reported.engagement, period=OCTOBER, now=NOW
    )
    # The head recorded is the newest event when the report was made; its own "report.finalise" event follows it.
    assert report.head_seq == audit_head(engagement_id=reported.engagement.pk).seq - 1
    assert audit_engagement_verify(engagement_id=reported.engagement.pk, head_hash=report.head_hash).ok
    chain = f"engagement:{reported.engagement.pk}"
    # By hand, as someone with database access would: drop the triggers, delete the newest events from the
    # one the report recorded onwards, put the triggers back.
    guard_remove(connection)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE chain = %s AND seq >= %s", [chain, report.head_seq])
    guard_install(connection)
    shorter = audit_engagement_verify(engagement_id=reported.engagement.pk)
    assert shorter.ok  # the shortened chain still links up on its own...
    assert audit_head(engagement_id=reported.engagement.pk).hash != report.head_hash
    caught = audit_engagement_verify(engagement_id=reported.engagement.pk, head_hash=report.head_hash)
    assert not caught.ok
    assert caught.problem is not None
    assert caught.problem.kind == "head missing"  # ...but not against the head the report printed
    assert report.head_hash in caught.problem.message


def test_a_period_not_begun_is_refused_with_a_clear_reason(reported: World):
    from pactboard.reports.selectors import report_period_parse

    with pytest.raises(PactboardError, match="has not started"):
        report_period_parse(engagement=reported.engagement, label="2026-12", now=NOW)
    assert report_period_parse(engagement=reported.engagement, label="2026-Q3", now=NOW) == Period.parse("2026-Q3")
