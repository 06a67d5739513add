"""A report in each format: web page context, PDF (WeasyPrint), XLSX (openpyxl) and CSV; the scorecard downloads.

Every format reads the same report dict (``selectors.report_data``). Text cells of the CSV and the
XLSX pass through ``core.csvsafe.csv_cell`` (a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return gets a leading apostrophe); numbers are written as numbers with a number format.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from pactboard.core.csvsafe import csv_cell, csv_row
from pactboard.reports.charts import report_chart_svgs

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
}
FORMATS = ("html", "pdf", "xlsx", "csv")

# Number formats by unit: the value as stored, shown the way the page shows it (docs/formatting.md).
UNIT_FORMATS = {
    "%": '0.0#" %"',
    "currency": "#,##0.00",
    "count": "#,##0",
    "seconds": '#,##0.0#" s"',
    "hours": '#,##0.0#" h"',
}
DEFAULT_FORMAT = "#,##0.0#"
RATIO_FORMAT = "0.0%"
SCORE_FORMAT = "0.0"


def report_filename(data: dict[str, Any], fmt: str) -> str:
    name = "".join(c if c.isalnum() else "-" for c in data["engagement"]["name"]).strip("-").lower() or "engagement"
    return f"report-{name}-{data['period']['label']}.{fmt}"


def _d(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


# --- PDF -------------------------------------------------------------------------------------


def report_pdf(*, data: dict[str, Any]) -> bytes:
    """The report as a PDF: the web page's sections and charts (SVG from the same specs)."""
    html = render_to_string("reports/report_pdf.html", {"data": data, "charts": report_chart_svgs(data), "pdf": True})
    # Imported here: WeasyPrint loads Pango through the system's libraries; without them only this
    # download fails, not every page of the site at start-up.
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


# --- CSV -------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "section",
    "code",
    "name",
    "period",
    "value",
    "target",
    "amber",
    "status",
    "attainment",
    "weight",
    "date",
    "owner",
    "text",
    "trend",
    "forecast_period",
    "forecast",
    "forecast_lower_80",
    "forecast_upper_80",
    "forecast_probability",
)


def _csv_rows(data: dict[str, Any]) -> Iterable[list[Any]]:
    s = data["summary"]
    period = data["period"]["label"]

    def row(section: str, **cells: Any) -> list[Any]:
        return [section if c == "section" else cells.get(c) for c in CSV_COLUMNS]

    yield row("summary", name="Weighted score", period=s["score_period"], value=_d(s["score"]), text=s["text"])
    yield row("summary", name="Status score", period=s["score_period"], value=_d(s["status_score"]))
    yield row("summary", name="Coverage", period=s["score_period"], value=_d(s["coverage"]))
    for k in data["kpis"]:
        yield row(
            "kpi",
            code=k["code"],
            name=k["name"],
            period=k["period"],
            value=_d(k["value"]),
            target=_d(k["target"]),
            amber=_d(k["amber"]),
            status=k["status"],
            attainment=_d(k["attainment"]),
            weight=_d(k["weight"]),
            text=k["unit"],
            trend=k.get("trend"),
            forecast_period=k.get("forecast_period"),
            forecast=_d(k.get("forecast")),
            forecast_lower_80=_d(k.get("forecast_lower_80")),
            forecast_upper_80=_d(k.get("forecast_upper_80")),
            forecast_probability=_d(k.get("forecast_probability")),
        )
    for text in data["successes"]:
        yield row("success", period=period, text=text)
    for text in data["challenges"]:
        yield row("challenge", period=period, text=text)
    for c in data["business_changes"]:
        yield row("business_change", name=c["title"], date=c["date"], status=c["kind"], text=c["description"])
    for a in data["actions"]:
        yield row(
            "action",
            code=a["kpi"],
            name=a["title"],
            date=a["due_date"],
            owner=f"{a['owner']} ({a['organisation']})",
            status="overdue" if a["overdue"] else "open",
        )
    for st in data["incentives"]:
        for key in ("credits_due", "bonuses", "net", "payable"):
            yield row("incentive", name=key, period=st["period"], value=_d(st[key]), status=st["status"])
        for x in st["lines"]:
            yield row(
                "incentive_line",
                code=x["kpi"],
                name=x["rule"],
                period=st["period"],
                value=_d(x["amount"]),
                status=x["kind"],
                text=x["explanation"],
            )
    audit = data["audit"]
    yield row("audit", name=audit["chain"], value=audit["seq"], text=audit["head_hash"])


def report_csv(*, data: dict[str, Any]) -> str:
    """One table, a ``section`` column saying what each row is; numbers as plain decimal text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_row(CSV_COLUMNS))
    for r in _csv_rows(data):
        writer.writerow(csv_row(r))
    return out.getvalue()


# --- XLSX ------------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    """Numbers stay numbers; text is neutralised (a spreadsheet never runs it)."""
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    return csv_cell(value)


def _sheet(book: Workbook, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Worksheet:
    sheet = book.create_sheet(title)
    sheet.append([_cell(h) for h in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r in rows:
        sheet.append([_cell(v) for v in r])
    return sheet


def _format_column(sheet: Worksheet, column: int, formats: Sequence[str]) -> None:
    for row_number, number_format in enumerate(formats, start=2):
        sheet.cell(row=row_number, column=column).number_format = number_format


def report_xlsx(*, data: dict[str, Any]) -> bytes:
    """A sheet per section; values, targets, scores and amounts are numbers with number formats."""
    book = Workbook()
    first = book.active
    if first is not None:
        book.remove(first)
    s, e, audit = data["summary"], data["engagement"], data["audit"]
    summary = _sheet(
        book,
        "Summary",
        ["Item", "Value"],
        [
            ["Engagement", e["name"]],
            ["Client", e["client"]],
            ["Provider", e["provider"]],
            ["Period", data["period"]["label"]],
            ["Agreement version", data["agreement_version"]],
            ["Weighted score", _d(s["score"])],
            ["Status score", _d(s["status_score"])],
            ["Coverage", _d(s["coverage"])],
            ["Summary", s["text"]],
            ["Made at", data["made_at"]],
            ["Audit chain", audit["chain"]],
            ["Audit event", audit["seq"]],
            ["Audit head hash", audit["head_hash"]],
        ],
    )
    summary["B7"].number_format = SCORE_FORMAT
    summary["B8"].number_format = SCORE_FORMAT
    summary["B9"].number_format = RATIO_FORMAT
    summary.column_dimensions["A"].width = 20
    summary.column_dimensions["B"].width = 70

    kpi_header = [
        "Code",
        "KPI",
        "Period",
        "Unit",
        "Value",
        "Target",
        "Amber",
        "Status",
        "Attainment",
        "Weight",
        "Trend",
        "Forecast period",
        "Forecast",
        "Forecast, 80 % low",
        "Forecast, 80 % high",
        "P(meeting target)",
    ]
    kpis = _sheet(
        book,
        "KPIs",
        kpi_header,
        [
            [
                k["code"],
                k["name"],
                k["period"],
                k["unit"],
                _d(k["value"]),
                _d(k["target"]),
                _d(k["amber"]),
                k["status_text"],
                _d(k["attainment"]),
                _d(k["weight"]),
                k.get("trend_text"),
                k.get("forecast_period"),
                _d(k.get("forecast")),
                _d(k.get("forecast_lower_80")),
                _d(k.get("forecast_upper_80")),
                _d(k.get("forecast_probability")),
            ]
            for k in data["kpis"]
        ],
    )
    unit_formats = [UNIT_FORMATS.get(k["unit"], DEFAULT_FORMAT) for k in data["kpis"]]
    for column in (5, 6, 7, 13, 14, 15):
        _format_column(kpis, column, unit_formats)
    _format_column(kpis, 16, [RATIO_FORMAT] * len(data["kpis"]))
    _format_column(kpis, 9, [RATIO_FORMAT] * len(data["kpis"]))
    _format_column(kpis, 10, ["0.0##"] * len(data["kpis"]))
    kpis.column_dimensions["B"].width = 32

    _sheet(book, "Successes", ["Success"], [[t] for t in data["successes"]]).column_dimensions["A"].width = 100
    _sheet(book, "Challenges", ["Challenge"], [[t] for t in data["challenges"]]).column_dimensions["A"].width = 100
    changes = _sheet(
        book,
        "Business changes",
        ["Date", "Kind", "Title", "Description", "KPIs"],
        [[c["date"], c["kind"], c["title"], c["description"], ", ".join(c["kpis"])] for c in data["business_changes"]],
    )
    changes.column_dimensions["C"].width = 40
    actions = _sheet(
        book,
        "Open actions",
        ["Action", "Owner", "Organisation", "Due", "Overdue", "KPI"],
        [[a["title"], a["owner"], a["organisation"], a["due_date"], a["overdue"], a["kpi"]] for a in data["actions"]],
    )
    actions.column_dimensions["A"].width = 50
    money_rows: list[list[Any]] = []
    for st in data["incentives"]:
        for key, label in (
            ("credits_due", "Credits due"),
            ("bonuses", "Bonuses"),
            ("net", "Net"),
            ("payable", "Payable"),
        ):
            money_rows.append([st["period"], st["status_text"], label, "", "", _d(st[key]), st["currency"], ""])
        for x in st["lines"]:
            money_rows.append(
                [st["period"], st["status_text"], x["kind"], x["rule"], x["kpi"], _d(x["amount"]), st["currency"],
                 x["explanation"]]
            )  # fmt: skip
    incentives = _sheet(
        book, "Incentives", ["Period", "Status", "Item", "Rule", "KPI", "Amount", "Currency", "Explanation"], money_rows
    )
    _format_column(incentives, 6, ["#,##0.00"] * len(money_rows))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- the scorecard's downloads ----------------------------------------------------------------

SCORECARD_COLUMNS = ("code", "name", "unit", "value", "target", "amber", "stretch", "status", "attainment", "weight")


def scorecard_rows(data: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            k["code"],
            k["name"],
            k["unit"],
            _d(k["value"]),
            _d(k["target"]),
            _d(k["amber"]),
            _d(k["stretch"]),
            k["status"],
            _d(k["attainment"]),
            _d(k["weight"]),
        ]
        for k in data["kpis"]
    ]


def scorecard_csv(*, data: dict[str, Any]) -> str:
    """The scorecard page's table: one row per KPI, then the weighted score."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_row(SCORECARD_COLUMNS))
    for r in scorecard_rows(data):
        writer.writerow(csv_row(r))
    s = data["summary"]
    writer.writerow([])
    writer.writerow(csv_row(["score", "Weighted score", "", _d(s["score"])]))
    writer.writerow(csv_row(["status_score", "Status score", "", _d(s["status_score"])]))
    writer.writerow(csv_row(["coverage", "Coverage", "", _d(s["coverage"])]))
    return out.getvalue()


def scorecard_xlsx(*, data: dict[str, Any]) -> bytes:
    book = Workbook()
    first = book.active
    if first is not None:
        book.remove(first)
    rows = scorecard_rows(data)
    sheet = _sheet(book, f"Scorecard {data['period']['label']}", [c.title() for c in SCORECARD_COLUMNS], rows)
    unit_formats = [UNIT_FORMATS.get(k["unit"], DEFAULT_FORMAT) for k in data["kpis"]]
    for column in (4, 5, 6, 7):
        _format_column(sheet, column, unit_formats)
    _format_column(sheet, 9, [RATIO_FORMAT] * len(rows))
    s = data["summary"]
    sheet.append([])
    for key, label in (("score", "Weighted score"), ("status_score", "Status score"), ("coverage", "Coverage")):
        sheet.append([key, label, "", _d(s[key])])
        sheet.cell(row=sheet.max_row, column=4).number_format = RATIO_FORMAT if key == "coverage" else SCORE_FORMAT
    sheet.column_dimensions["B"].width = 32
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def report_html_standalone(*, data: dict[str, Any]) -> str:
    """The report as one self-contained HTML file (the PDF's layout, charts inline as SVG)."""
    return render_to_string("reports/report_pdf.html", {"data": data, "charts": report_chart_svgs(data), "pdf": True})
