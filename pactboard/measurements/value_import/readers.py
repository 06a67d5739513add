"""Rows out of CSV and XLSX files, bounded in line length and row count; XLSX read safely."""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, NoReturn
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook

from pactboard.measurements import limits
from pactboard.measurements.ingest import csv_header_parse, text_file_utf8_check
from pactboard.measurements.ingest.files import field_too_long, line_too_long
from pactboard.measurements.value_import.rows import REQUIRED_COLUMNS, Cell, ValueFileFormat, _refuse


def _format_of(source: Path, fmt: str | None) -> ValueFileFormat:
    if fmt is None:
        fmt = {".csv": "csv", ".xlsx": "xlsx"}.get(source.suffix.lower())
        if fmt is None:
            _refuse(
                f"Cannot tell the format of '{source.name}' from its name: upload a .csv or .xlsx file.",
                "format",
                "unknown_format",
            )
    if fmt not in ("csv", "xlsx"):
        _refuse(f"Unknown file format {fmt!r}: use csv or xlsx.", "format", "unknown_format")
    return fmt  # type: ignore[return-value]


_Rows = Iterator[tuple[int, Sequence[Cell]]]


def _csv_rows(path: Path) -> _Rows:
    text_file_utf8_check(path)
    with path.open("rb") as fh:
        first = next(_bounded_lines(fh), "")
    csv_header_parse(first.rstrip("\r\n"), expected=REQUIRED_COLUMNS)
    return _csv_iter(path)


def _bounded_lines(fh: BinaryIO) -> Iterator[str]:
    """The file's lines as text, refusing one past the line limit without reading it whole."""
    number = 0
    while True:
        raw = fh.readline(limits.MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw.rstrip(b"\r\n")) > limits.MAX_LINE_BYTES:
            raise line_too_long(number)
        text = raw.decode("utf-8")  # checked as UTF-8 before; a line break never splits a character
        yield text.removeprefix("\ufeff") if number == 1 else text


def _csv_iter(path: Path) -> _Rows:
    number = 0
    with path.open("rb") as fh:
        try:
            # Row N counts records and blank lines, header = 1: the line number unless a quoted
            # value spans lines.
            for number, cells in enumerate(csv.reader(_bounded_lines(fh), strict=True), start=1):
                yield number, cells
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise field_too_long(number + 1) from None
            _refuse(
                f"The file is not well-formed CSV near row {number + 1}: {exc}. Put values that contain commas or "
                'quotes in double quotes, and double any quote inside them ("").',
                f"row {number + 1}",
                "malformed_row",
            )


# What a workbook that is not one raises from openpyxl: broken zip or XML, or XML that declares
# entities (defusedxml refuses them; expat's own limit stops an expansion that slips through).
_XLSX_ERRORS = (
    InvalidFileException,
    zipfile.BadZipFile,
    KeyError,
    OSError,
    ValueError,
    ParseError,
    DefusedXmlException,
)


def _xlsx_refuse(exc: BaseException) -> NoReturn:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, DefusedXmlException) or "amplification" in str(cause):
            _refuse(
                "The workbook's XML declares entities, which a spreadsheet saved by Excel or LibreOffice never does, "
                "so it was not read (such entities can expand to gigabytes). Open the file in a spreadsheet program, "
                "save it as 'Excel Workbook (.xlsx)', or export it as CSV, and upload it again.",
                None,
                "xml_entities",
            )
        cause = cause.__cause__ or cause.__context__
    _refuse(
        "The file is not a readable XLSX workbook: save it from Excel as 'Excel Workbook (.xlsx)', or upload CSV.",
        None,
        "invalid_xlsx",
    )


def _xlsx_rows(path: Path) -> _Rows:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except _XLSX_ERRORS as exc:
        _xlsx_refuse(exc)
    return _xlsx_iter(book)


def _xlsx_iter(book: Workbook) -> _Rows:
    try:
        sheet = book.worksheets[0]
        # Streaming (read-only): one row at a time; row numbers are the sheet's own.
        yield from enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
    except _XLSX_ERRORS as exc:
        _xlsx_refuse(exc)
    finally:
        book.close()
