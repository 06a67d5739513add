"""CSV cells are neutralised against formula injection (OWASP "CSV Injection" guidance)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from pactboard.core.csvsafe import csv_cell, csv_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The six starts OWASP lists, each gets an apostrophe in front.
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        # Anything else is left as typed, including a formula sign later in the text.
        ("Acme support", "Acme support"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_text_that_starts_like_a_formula_gets_a_leading_apostrophe(text, expected):
    assert csv_cell(text) == expected


def test_numbers_stay_numbers_and_none_is_empty():
    assert csv_cell(Decimal("-12.50")) == "-12.50"
    assert csv_cell(-3) == "-3"
    assert csv_cell(None) == ""
    assert csv_cell(True) == "true"
    assert csv_cell(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05+00:00"


def test_a_whole_document_neutralises_header_and_rows_and_reads_back():
    text = csv_text(header=["who", "=what"], rows=[["@carla", Decimal("-1")], ["bob", "x,y"]])
    assert list(csv.reader(io.StringIO(text))) == [["who", "'=what"], ["'@carla", "-1"], ["bob", "x,y"]]
    assert text.endswith("\r\n")
