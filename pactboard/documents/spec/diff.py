"""What changed between two engagement documents, entry by entry (``pactboard engagement diff``).

Pure: pydantic only. Both documents are dumped (the field order of the models) and walked
together; numbers compare as decimals, so ``75`` and ``75.0`` are the same target. Changes carry
JSON-ready values: decimals as their text, dates as ISO dates. List entries are matched by their
identity, not their place, so reordering is no change: datasets by ``name``, objectives by
``key``, KPIs by ``code`` (the catalogue code when the entry gives none), milestones by ``date``
and dataset columns by ``name``. Paths name entries by that identity, e.g.
``kpis[fcr].thresholds.amber``; an entry only one side has is one ``added`` or ``removed``
change, not a change per field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pactboard.documents.spec.models import Document

__all__ = ["DocumentChange", "document_diff"]

ChangeKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True, kw_only=True)
class DocumentChange:
    kind: ChangeKind
    path: str
    before: Any = None
    after: Any = None

    def line(self) -> str:
        """One line for a terminal: ``~ path: before -> after``, ``+ path``, ``- path``."""
        if self.kind == "added":
            return f"+ {self.path}"
        if self.kind == "removed":
            return f"- {self.path}"
        return f"~ {self.path}: {_show(self.before)} -> {_show(self.after)}"


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    return str(value).replace("'", '"') if isinstance(value, (dict, list)) else str(value)


def _kpi_identity(entry: dict[str, Any]) -> str:
    return str(entry.get("code") or entry.get("catalogue") or "?")


# The identity of the entries of each list, by the name of the list (the same at every depth).
_IDENTITY: dict[str, Callable[[dict[str, Any]], str]] = {
    "datasets": lambda e: str(e.get("name")),
    "columns": lambda e: str(e.get("name")),
    "objectives": lambda e: str(e.get("key")),
    "kpis": _kpi_identity,
    "milestones": lambda e: str(e.get("date")),
}


def _plain(value: Any) -> Any:
    """A dumped value as JSON holds it: decimals as text (never through float), dates as ISO dates."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _change(kind: ChangeKind, path: str, before: Any = None, after: Any = None) -> DocumentChange:
    return DocumentChange(kind=kind, path=path, before=_plain(before), after=_plain(after))


def _walk(before: Any, after: Any, path: str, name: str, out: list[DocumentChange]) -> None:
    if before == after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*before, *(k for k in after if k not in before)]:
            child = f"{path}.{key}" if path else key
            if key not in after:
                out.append(_change("changed", child, before[key], None))
            elif key not in before:
                out.append(_change("changed", child, None, after[key]))
            else:
                _walk(before[key], after[key], child, key, out)
        return
    identity = _IDENTITY.get(name)
    if (
        identity is not None
        and isinstance(before, list)
        and isinstance(after, list)
        and all(isinstance(e, dict) for e in [*before, *after])
    ):
        old = {identity(e): e for e in before}
        new = {identity(e): e for e in after}
        for key, entry in old.items():
            if key not in new:
                out.append(_change("removed", f"{path}[{key}]", before=entry))
            else:
                _walk(entry, new[key], f"{path}[{key}]", "", out)
        out.extend(
            DocumentChange(kind="added", path=f"{path}[{key}]", after=entry)
            for key, entry in new.items()
            if key not in old
        )
        return
    out.append(_change("changed", path, before, after))


def document_diff(before: Document, after: Document) -> list[DocumentChange]:
    """Every change from ``before`` to ``after``, in the documents' order (empty when they say the same)."""
    out: list[DocumentChange] = []
    _walk(before.model_dump(), after.model_dump(), "", "", out)
    return out
