"""Uploaded files: the services read files from disk, so uploads are written to a folder first."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class _Upload(Protocol):
    name: str | None

    def chunks(self) -> object: ...


def upload_save(upload: _Upload, directory: str | Path) -> Path:
    """Write an uploaded file into ``directory`` under its own (base) name, chunk by chunk; return the path."""
    target = Path(directory) / Path(upload.name or "upload").name
    with target.open("wb") as fh:
        for chunk in upload.chunks():  # type: ignore[attr-defined]
            fh.write(chunk)
    return target
