"""What an uploaded file must be before it is stored: not empty, a known type, and content of that type.

The page's form and the API both hand their upload to ``import_batch_receive``, which calls
``upload_type_check`` first: a file refused here is never written to the data directory and no
import batch is started for it. The check reads the first few KiB (and, for Parquet, the last
four bytes); the readers check the rest while they stream.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pactboard.core.errors import ErrorDetail, PactboardError

VALUE_FILE_SUFFIXES = (".csv", ".xlsx")
DATASET_FILE_SUFFIXES = (".csv", ".parquet", ".pq", ".jsonl", ".ndjson")
_SUFFIXES = {"values": VALUE_FILE_SUFFIXES, "records": DATASET_FILE_SUFFIXES}
_HEAD_BYTES = 8192

_ZIP = b"PK\x03\x04"  # XLSX is a ZIP archive
_PARQUET = b"PAR1"
# Binary formats a text file never starts with (archives, executables, documents, images).
_BINARY_MAGIC = (
    _ZIP, _PARQUET, b"\x7fELF", b"MZ", b"%PDF", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf",
    b"Rar!", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\xd0\xcf\x11\xe0",
)  # fmt: skip
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # refused by the readers, with their own message


def _refused(message: str, code: str) -> PactboardError:
    return PactboardError(message, details=[ErrorDetail(message, "file", code)])


def _head_and_tail(upload: Any) -> tuple[bytes, bytes]:
    upload.seek(0)
    head = upload.read(_HEAD_BYTES)
    size = int(getattr(upload, "size", 0) or 0)
    tail = head[-4:]
    if size > len(head):
        upload.seek(size - 4)
        tail = upload.read(4)
    upload.seek(0)
    return head, tail


def upload_type_check(upload: Any, *, kind: str) -> None:
    """Refuse an empty file, a name of the wrong type, or content that is not what its name says."""
    name = str(getattr(upload, "name", "") or "upload")
    shown = Path(name).name[:80]
    suffix = Path(name).suffix.lower()
    allowed = _SUFFIXES.get(kind, VALUE_FILE_SUFFIXES + DATASET_FILE_SUFFIXES)
    if suffix not in allowed:
        formats = ", ".join(s.lstrip(".").upper() for s in allowed)
        raise _refused(
            f"'{shown}' is not a {formats} file: save it in one of those formats and upload it again.", "file_type"
        )
    if not int(getattr(upload, "size", 0) or 0):
        raise _refused(f"'{shown}' is empty: nothing was stored. Upload the file with its rows.", "empty_file")
    head, tail = _head_and_tail(upload)
    if not head:
        raise _refused(f"'{shown}' is empty: nothing was stored. Upload the file with its rows.", "empty_file")
    if suffix == ".xlsx":
        if not head.startswith(_ZIP):
            raise _refused(
                f"'{shown}' is not an XLSX workbook: save it from Excel as 'Excel Workbook (.xlsx)', or upload CSV.",
                "file_content",
            )
        return
    if suffix in (".parquet", ".pq"):
        if not (head.startswith(_PARQUET) and tail == _PARQUET):
            raise _refused(
                f"'{shown}' is not a Parquet file (it lacks Parquet's 'PAR1' markers): write it with a Parquet "
                "library, or upload CSV.",
                "file_content",
            )
        return
    # CSV and JSON Lines are text.
    if head.startswith(_UTF16_BOMS):
        return
    if head.startswith(_BINARY_MAGIC) or b"\x00" in head:
        raise _refused(
            f"'{shown}' is not a text file, though its name says {suffix.lstrip('.').upper()}: it holds binary "
            "data (a spreadsheet, an archive or a program?). Save it as UTF-8 text and upload it again.",
            "file_content",
        )
    if suffix in (".jsonl", ".ndjson") and not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        raise _refused(
            f"'{shown}' is not JSON Lines: each line must be one JSON object, starting with '{{'.", "file_content"
        )
