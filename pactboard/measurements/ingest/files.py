"""File-level helpers of an ingest: hashing, the UTF-8 check, the CSV header and its column names.

Also used by ``value_import``. Each refusal is one ``PactboardError`` that names the row and
the fix (save as UTF-8, separate values with commas, rename or add a column).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.measurements import limits

_CHUNK = 1 << 20


# --- file-level helpers (also used by value_import) ------------------------------------------


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def text_file_utf8_check(path: Path, *, what: str = "file") -> None:
    """Refuse a file that is not UTF-8 text, naming the row of the first bad byte and the fix.

    Streams the file; rows are counted by line breaks (the header, if any, is row 1).
    """
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (len(head) >= 2 and b"\x00" in head[:2]):
            raise PactboardError(
                f"The {what} is UTF-16 text (Excel's 'Unicode Text'); Pactboard reads UTF-8. "
                "Save it as 'CSV UTF-8 (Comma delimited)' and upload it again.",
                details=[ErrorDetail("file is UTF-16, not UTF-8", "row 1", "wrong_encoding")],
            )
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        lines_before = 0
        while chunk := fh.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                row = lines_before + chunk[: exc.start].count(b"\n") + 1
                raise _encoding_error(what, row, chunk[exc.start : exc.start + 4]) from None
            lines_before += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise _encoding_error(what, lines_before + 1, b"") from None


def _encoding_error(what: str, row: int, bad: bytes) -> PactboardError:
    shown = f" the byte 0x{bad[0]:02X}" if bad else " an incomplete character at the end"
    guess = ""
    if bad:
        char = bad[:1].decode("cp1252", errors="replace")
        if char.isprintable() and char != "\ufffd":
            guess = f" ({char!r} in Windows-1252/Latin-1)"
    message = (
        f"The {what} is not UTF-8 text: row {row} has{shown}{guess}. Save the file as UTF-8 "
        "(in Excel: Save As, 'CSV UTF-8 (Comma delimited)') and upload it again."
    )
    return PactboardError(message, details=[ErrorDetail(message, f"row {row}", "wrong_encoding")])


def _read_first_line(path: Path, *, what: str) -> tuple[str, int]:
    """The first line of a UTF-8 text file (BOM stripped) and its length in bytes; refused past the line limit."""
    with path.open("rb") as fh:
        raw = fh.readline(limits.MAX_LINE_BYTES + 1)
    if len(raw.rstrip(b"\r\n")) > limits.MAX_LINE_BYTES:
        raise line_too_long(1)
    raw_text = raw.removeprefix(codecs.BOM_UTF8)
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in raw:
        text_file_utf8_check(path, what=what)
    try:
        return raw_text.decode("utf-8").rstrip("\r\n"), len(raw)
    except UnicodeDecodeError:
        text_file_utf8_check(path, what=what)
        raise  # pragma: no cover - the check above raises first


def csv_header_parse(line: str, *, expected: Sequence[str], what: str = "file") -> list[str]:
    """The column names of a CSV header line; a file split on another delimiter is refused with the fix."""
    try:
        names = [n.strip() for n in next(csv.reader([line]), [])]
    except csv.Error:
        raise field_too_long(1) from None
    if len(names) <= 1 and len(expected) > 1:
        for delim, called in ((";", "semicolons (;)"), ("\t", "tabs"), ("|", "vertical bars (|)")):
            if delim in line:
                message = (
                    f"The {what} separates values with {called}; Pactboard reads comma-separated CSV. "
                    "Export it as 'CSV UTF-8 (Comma delimited)' (or replace the separators with commas) and "
                    "upload it again."
                )
                _raise(message, "row 1", "wrong_delimiter")
    return names


def line_too_long(row: int) -> PactboardError:
    """A line past ``limits.MAX_LINE_BYTES``: most often not a file of records at all, or one without line breaks."""
    message = (
        f"row {row} is longer than {limits.MAX_LINE_BYTES:,} bytes; a file of records has one record per line. "
        "Check that this is the file you meant (a CSV export or JSON Lines file, not a file without line breaks), "
        "shorten very long values, and upload it again."
    )
    return PactboardError(message, details=[ErrorDetail(message, f"row {row}", "line_too_long")])


def field_too_long(row: int) -> PactboardError:
    """A single CSV value past ``limits.MAX_FIELD_CHARS`` (often a quote that is never closed)."""
    message = (
        f'row {row} has a value longer than {limits.MAX_FIELD_CHARS:,} characters; check for a quote (") that is '
        "opened but never closed, shorten the value, and upload the file again."
    )
    return PactboardError(message, details=[ErrorDetail(message, f"row {row}", "value_too_long")])


def errors_capped(details: list[ErrorDetail], total: int, shown: int = limits.ERRORS_SHOWN) -> list[ErrorDetail]:
    """The first ``shown`` details, then one line counting the rest of ``total``."""
    kept = details[:shown]
    if total > len(kept):
        kept.append(ErrorDetail(limits.more_errors(total - len(kept)), None, "more_errors"))
    return kept


def _raise(message: str, location: str | None, code: str) -> NoReturn:
    raise PactboardError(message, details=[ErrorDetail(message, location, code)])


def columns_check(*, found: Sequence[str], schema_columns: Sequence[str], where: str, what: str) -> None:
    """Refuse missing, unknown, duplicate or blank column names, one detail each."""
    details: list[ErrorDetail] = []
    seen: set[str] = set()
    by_fold = {c.casefold(): c for c in schema_columns}
    total = 0
    for index, name in enumerate(found, start=1):
        if len(details) >= limits.ERRORS_SHOWN:
            # Past the listed problems only count the rest (a header of a million names stays cheap).
            total += name == "" or name in seen or name not in schema_columns
            seen.add(name)
            continue
        if not name:
            details.append(
                ErrorDetail(f"column {index} has no name; name it or delete the column", where, "blank_column")
            )
        elif name in seen:
            details.append(ErrorDetail(f"column '{name}' appears twice; keep one", where, "duplicate_column"))
        elif name not in schema_columns:
            hint = f" (did you mean '{by_fold[name.casefold()]}'?)" if name.casefold() in by_fold else ""
            details.append(
                ErrorDetail(
                    f"unknown column '{name}'{hint}: the {what} declares {', '.join(schema_columns)}; "
                    "rename or delete it",
                    where,
                    "unknown_column",
                )
            )
        seen.add(name)
    for name in schema_columns:
        if name not in seen:
            details.append(
                ErrorDetail(f"missing column '{name}': add it (it may be empty where allowed)", where, "missing_column")
            )
    total += len(details)
    if details:
        raise PactboardError(
            f"The file's columns do not match the {what}: {total} problem(s). Fix the header and upload again.",
            details=errors_capped(details, total),
        )
