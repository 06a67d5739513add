"""The upload size limit, enforced while an upload streams in rather than after it is stored.

``UploadSizeLimitHandler`` is the first of Django's upload handlers (``FILE_UPLOAD_HANDLERS``):
it passes each chunk on to the next handler (memory, then a temporary file) until a file passes
``PACTBOARD_UPLOAD_MAX_BYTES``; from then on it drops the chunks, so nothing past the limit is
written anywhere, and hands over an empty ``TooLargeUpload`` in place of the file. The request's
other fields are still read, so the page can answer with its form and a 413, and the service
that receives the file refuses it with ``upload_received_check``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from pactboard.core.errors import ErrorDetail, PactboardError

DEFAULT_UPLOAD_MAX_BYTES = 1024 * 1024 * 1024  # 1 GiB


def upload_max_bytes() -> int:
    return int(getattr(settings, "PACTBOARD_UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES))


def upload_too_large(limit: int) -> PactboardError:
    """The refusal of a file past the limit (HTTP 413)."""
    message = (
        f"The file is larger than the {limit:,} bytes ({limit / 1024 / 1024:,.0f} MiB) an upload may have, so it "
        "was not stored. Split it into smaller files (for records: by month) and upload them one by one."
    )
    return PactboardError(message, details=[ErrorDetail(message, "file", "file_too_large")], kind="too_large")


def upload_size_check(*, size: int) -> None:
    """Refuse a file of ``size`` bytes past the limit (for files that did not come through the handler)."""
    limit = upload_max_bytes()
    if size > limit:
        raise upload_too_large(limit)


def upload_received_check(upload: Any) -> None:
    """Refuse an upload the handler cut off, or one larger than the limit."""
    limit = getattr(upload, "too_large_limit", None)
    if limit is not None:
        raise upload_too_large(int(limit))
    upload_size_check(size=int(getattr(upload, "size", 0) or 0))


class TooLargeUpload(SimpleUploadedFile):
    """What a request holds in place of a file past the limit: no content, and the limit it passed."""

    def __init__(self, name: str, content_type: str | None, limit: int) -> None:
        super().__init__(name, b"", content_type or "application/octet-stream")
        self.too_large_limit = limit


class UploadSizeLimitHandler(FileUploadHandler):
    """Pass chunks on while the file is within the limit; past it, drop them and hand over a ``TooLargeUpload``."""

    def new_file(
        self, field_name: str, file_name: str, content_type: str, content_length: int | None, *args: Any, **kwargs: Any
    ) -> None:
        super().new_file(field_name, file_name, content_type, content_length, *args, **kwargs)
        self.limit = upload_max_bytes()
        self.too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self.too_large or start + len(raw_data) > self.limit:
            if not self.too_large:
                self.too_large = True
                self._others_discard()
            return None  # the next handlers never see this chunk: nothing past the limit is written
        return raw_data

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if not self.too_large:
            return None  # the next handler completes the file as usual
        return TooLargeUpload(self.file_name or "upload", self.content_type, self.limit)

    def _others_discard(self) -> None:
        """Close what the next handlers hold of this file so far (a temporary file is deleted on close)."""
        for handler in getattr(self.request, "upload_handlers", []) if self.request is not None else []:
            held = getattr(handler, "file", None)
            if handler is not self and held is not None:
                with contextlib.suppress(OSError):
                    held.close()
