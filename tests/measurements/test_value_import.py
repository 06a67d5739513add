"""Value files (CSV/XLSX of KPI values): every refusal located by row and column (docs/data-in.md)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from pactboard.core.errors import PactboardError
from pactboard.measurements.ingest import file_sha256
from pactboard.measurements.value_import import KpiRule, ParsedValues, value_file_parse, value_file_values_by_line

KPIS = {
    "csat": KpiRule("csat", "month", Decimal(0), Decimal(100)),
    "service_level": KpiRule("service_level", "month", Decimal(0), Decimal(100)),
    "tickets_closed": KpiRule("tickets_closed", "week", integer=True),
    "nps": KpiRule("nps", "quarter", Decimal(-100), Decimal(100)),
}
# An engagement from 2026-01-15 to 2026-12-31.
FIRST, LAST = date(2026, 1, 15), date(2026, 12, 31)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def parse(path: Path, **kwargs: object) -> ParsedValues:
    return value_file_parse(source=path, kpis=KPIS, first_period_day=FIRST, last_period_day=LAST, **kwargs)  # type: ignore[arg-type]


def refusal(path: Path, **kwargs: object) -> PactboardError:
    with pytest.raises(PactboardError) as info:
        parse(path, **kwargs)
    return info.value


def only(error: PactboardError) -> tuple[str | None, str]:
    assert len(error.details) == 1, [str(d) for d in error.details]
    return error.details[0].location, error.details[0].message


def test_a_good_csv_is_parsed_in_order(tmp_path: Path) -> None:
    path = write(
        tmp_path / "v.csv",
        "kpi,period,value,note\n"
        "csat,2026-10,87.5,after the new IVR\n"
        "nps,2026-q4,-12,\n"
        "\n"
        "tickets_closed,2026-W05,1200,\n"
        "CSAT,2026-11,90,\n",
    )
    parsed = parse(path)
    assert [(r.line, r.kpi_code, r.period_label, r.period_start, r.value, r.note) for r in parsed.rows] == [
        (2, "csat", "2026-10", date(2026, 10, 1), Decimal("87.5"), "after the new IVR"),
        (3, "nps", "2026-Q4", date(2026, 10, 1), Decimal(-12), None),
        (5, "tickets_closed", "2026-W05", date(2026, 1, 26), Decimal(1200), None),  # blank row 4 still counts
        (6, "csat", "2026-11", date(2026, 11, 1), Decimal(90), None),  # codes match case-insensitively
    ]
    assert parsed.sha256 == file_sha256(path)


def test_a_good_xlsx_is_parsed_with_sheet_row_numbers(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["KPI", "Period", "Value", "Note"])
    sheet.append(["csat", "2026-10", 87.5, None])
    sheet.append([None, None, None, None])
    sheet.append(["csat", datetime(2026, 11, 1), 0.1 + 0.2, "typed 2026-11; Excel made it a date"])
    sheet.append(["tickets_closed", "2026-W06", 30, None])
    book.save(tmp_path / "v.xlsx")
    rows = parse(tmp_path / "v.xlsx").rows
    assert [(r.line, r.period_label, r.value) for r in rows] == [
        (2, "2026-10", Decimal("87.5")),
        (4, "2026-11", Decimal("0.3")),  # what the spreadsheet shows, not 0.30000000000000004
        (5, "2026-W06", Decimal(30)),
    ]


def test_unknown_kpi_suggests_close_codes(tmp_path: Path) -> None:
    error = refusal(write(tmp_path / "v.csv", "kpi,period,value\ncsta,2026-10,80\n"))
    assert only(error) == ("row 2, column kpi", "unknown KPI 'csta' (did you mean 'csat'?)")
    error = refusal(write(tmp_path / "v.csv", "kpi,period,value\nrevenue,2026-10,80\n"))
    assert (
        only(error)[1] == "unknown KPI 'revenue' (the engagement's KPIs are csat, nps, service_level, tickets_closed)"
    )


@pytest.mark.parametrize(
    ("label", "fragment"),
    [
        ("Oct 2026", "is not a period label"),
        ("2026-13", "the month must be 01 to 12"),
        ("2026-W05", "is a week label but a month is expected"),
        ("2026-Q4", "is a quarter label but a month is expected"),
    ],
)
def test_malformed_or_wrong_kind_period(tmp_path: Path, label: str, fragment: str) -> None:
    error = refusal(write(tmp_path / "v.csv", f"kpi,period,value\ncsat,{label},80\n"))
    location, message = only(error)
    assert location == "row 2, column period"
    assert fragment in message


def test_period_outside_the_engagement(tmp_path: Path) -> None:
    # 2026-01 overlaps the engagement (it starts on the 15th); 2025-12 and 2027-01 do not.
    path = write(tmp_path / "v.csv", "kpi,period,value\ncsat,2026-01,80\ncsat,2025-12,80\ncsat,2027-01,80\n")
    error = refusal(path)
    assert [d.location for d in error.details] == ["row 3, column period", "row 4, column period"]
    assert error.details[0].message == "2025-12 is outside the engagement, which runs from 2026-01-15 to 2026-12-31"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12,5", "'12,5' uses a decimal comma: write 12.5 (a point before decimals)"),
        ("1,234", "'1,234' has thousands separators: write 1234 (a point only before decimals)"),
        ("1 234.5", "'1 234.5' has thousands separators: write 1234.5 (a point only before decimals)"),
        ("95%", "'95%' has a % sign: write the number alone (95)"),
        ("n/a", "'n/a' is not a number: write digits with a point before decimals, e.g. 12.5"),
        ("", "the value is empty: fill it in, or delete the row"),
    ],
)
def test_value_not_a_number(tmp_path: Path, value: str, message: str) -> None:
    error = refusal(write(tmp_path / "v.csv", f'kpi,period,value\ncsat,2026-10,"{value}"\n'))
    assert only(error) == ("row 2, column value", message)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("csat,2026-10,140", "140 is above the maximum 100 for KPI 'csat'"),
        ("csat,2026-10,-0.5", "-0.5 is below the minimum 0 for KPI 'csat'"),
        ("nps,2026-Q3,-101", "-101 is below the minimum -100 for KPI 'nps'"),
        ("tickets_closed,2026-W10,-3", "-3 is negative: a count for KPI 'tickets_closed' cannot be"),
        ("tickets_closed,2026-W10,12.5", "12.5 is not a whole number: KPI 'tickets_closed' counts items"),
    ],
)
def test_value_outside_what_the_kpi_allows(tmp_path: Path, row: str, message: str) -> None:
    error = refusal(write(tmp_path / "v.csv", f"kpi,period,value\n{row}\n"))
    assert only(error) == ("row 2, column value", message)


def test_duplicate_kpi_and_period_names_both_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "v.csv", "kpi,period,value\ncsat,2026-10,80\nnps,2026-Q4,5\ncsat,2026-10,81\n")
    assert only(refusal(path)) == (
        "row 4",
        "KPI 'csat' for 2026-10 is also on row 2: keep one of rows 2 and 4",
    )


def test_missing_and_unknown_header_columns(tmp_path: Path) -> None:
    error = refusal(write(tmp_path / "v.csv", "kpi,month,value,comment\ncsat,2026-10,80,x\n"))
    messages = sorted(d.message for d in error.details)
    assert messages[0] == "missing column 'period': add it"
    assert messages[1].startswith("unknown column 'comment'")
    assert messages[2].startswith("unknown column 'month'")
    assert {d.location for d in error.details} == {"row 1"}
    assert sorted(d.code for d in error.details) == ["missing_column", "unknown_column", "unknown_column"]


def test_a_header_cell_without_a_name(tmp_path: Path) -> None:
    error = refusal(write(tmp_path / "v.csv", ",kpi,period,value\nx,csat,2026-10,80\n"))
    assert [(d.location, d.message, d.code) for d in error.details] == [
        ("row 1", "column 1 has no name; name it or delete the column", "blank_column")
    ]


def test_wrong_encoding(tmp_path: Path) -> None:
    path = write(tmp_path / "v.csv", "kpi,period,value,note\ncsat,2026-10,80,ok\ncsat,2026-11,80,réunion\n", "latin-1")
    error = refusal(path)
    assert only(error)[0] == "row 3"
    assert error.details[0].code == "wrong_encoding"
    assert "Save the file as UTF-8" in error.message


def test_wrong_delimiter(tmp_path: Path) -> None:
    error = refusal(write(tmp_path / "v.csv", "kpi;period;value\ncsat;2026-10;87,5\n"))
    assert error.details[0].code == "wrong_delimiter"
    assert "semicolons" in error.message


def test_a_row_with_too_many_values(tmp_path: Path) -> None:
    error = refusal(write(tmp_path / "v.csv", "kpi,period,value\ncsat,2026-10,87,5\n"))
    assert only(error) == ("row 2", "the row has 4 values but the header names 3 columns")


def test_every_problem_of_a_row_is_reported(tmp_path: Path) -> None:
    error = refusal(write(tmp_path / "v.csv", "kpi,period,value\nfoo,2026-99,abc\n"))
    assert [d.location for d in error.details] == ["row 2, column kpi", "row 2, column period", "row 2, column value"]


def test_empty_file_and_unknown_format(tmp_path: Path) -> None:
    assert refusal(write(tmp_path / "v.csv", "kpi,period,value\n")).details[0].code == "empty_file"
    assert refusal(write(tmp_path / "v.csv", "")).details[0].code == "missing_header"
    assert refusal(write(tmp_path / "v.txt", "x")).details[0].code == "unknown_format"
    assert refusal(write(tmp_path / "v.xlsx", "not a zip")).details[0].code == "invalid_xlsx"


def test_xlsx_date_in_a_weekly_kpi_is_refused(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["kpi", "period", "value"])
    sheet.append(["tickets_closed", datetime(2026, 2, 2), 5])
    book.save(tmp_path / "v.xlsx")
    location, message = only(refusal(tmp_path / "v.xlsx"))
    assert location == "row 2, column period"
    assert message.startswith("the cell holds the date 2026-02-02, not a period label")


def test_ten_thousand_rows_with_one_bad_row_report_that_row_only(tmp_path: Path) -> None:
    lines = ["kpi,period,value"]
    weeks = [f"2026-W{w:02d}" for w in range(3, 53)]  # W03 is the engagement's first week
    for i in range(10_000):
        code = f"k{i // len(weeks)}"
        lines.append(f"{code},{weeks[i % len(weeks)]},{i % 100}")
    lines[6_543 + 1] = lines[6_543 + 1].rsplit(",", 1)[0] + ",12.5.1"
    kpis = {f"k{n}": KpiRule(f"k{n}", "week", Decimal(0), Decimal(100)) for n in range(200)}
    path = write(tmp_path / "v.csv", "\n".join(lines) + "\n")
    with pytest.raises(PactboardError) as info:
        value_file_parse(source=path, kpis=kpis, first_period_day=FIRST, last_period_day=LAST)
    assert only(info.value) == (
        "row 6545, column value",
        "'12.5.1' is not a number: write digits with a point before decimals, e.g. 12.5",
    )
    lines[6_543 + 1] = lines[6_543 + 1].rsplit(",", 1)[0] + ",12.5"
    path = write(tmp_path / "v.csv", "\n".join(lines) + "\n")
    assert len(value_file_parse(source=path, kpis=kpis, first_period_day=FIRST, last_period_day=LAST).rows) == 10_000


def test_max_errors_caps_the_details(tmp_path: Path) -> None:
    rows = "".join(f"csat,2026-{m:02d},200\n" for m in range(2, 13))
    error = refusal(write(tmp_path / "v.csv", "kpi,period,value\n" + rows), max_errors=3)
    assert [d.location for d in error.details] == [
        "row 2, column value",
        "row 3, column value",
        "row 4, column value",
        None,
    ]
    assert error.details[-1].message == "... and 8 more errors"


def test_values_by_line_rereads_a_stored_file_without_rules(tmp_path: Path) -> None:
    path = write(tmp_path / "v.csv", "kpi,period,value\ncsat,2026-10,87.5\n\nunknown,2099-01,n/a\n")
    assert value_file_values_by_line(source=path) == {2: Decimal("87.5"), 4: None}
