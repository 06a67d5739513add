"""`pactboard report`: a period's report to a file or standard output, and --due (what the schedule does)."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from pactboard.reports.models import Report
from pactboard.reports.selectors import report_due_period
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_csv_goes_to_standard_output_and_binary_formats_need_a_file(reported: World):
    out = io.StringIO()
    call_command("report", "Acme support", "--period", "2026-10", "--format", "csv", stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert next(r for r in rows if r["code"] == "qa_score")["value"] == "92"
    with pytest.raises(CommandError, match="-o FILE"):
        call_command("report", "Acme support", "--period", "2026-10", "--format", "xlsx", stdout=io.StringIO())
    with pytest.raises(CommandError, match="is not a period label"):
        call_command("report", "Acme support", "--period", "October", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Name the engagement"):
        call_command("report", stdout=io.StringIO())


def test_due_makes_the_report_of_the_last_closed_period_once(reported: World):
    due = report_due_period(engagement=reported.engagement, now=timezone.now())
    assert due is not None
    out = io.StringIO()
    call_command("report", "--due", stdout=out)
    call_command("report", "--due", stdout=out)
    assert out.getvalue().count("1 reports due.") == 2
    assert list(Report.objects.values_list("period", "status")) == [(due.label, "final")]
