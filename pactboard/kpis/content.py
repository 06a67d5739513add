"""The canonical content of an agreement version, its hash, and the diff of two versions (pure).

The content is what both parties sign: the hash of its canonical JSON is stored with the
proposal and with every signature, so anyone can recompute it and compare.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

# The fields of a KPI, in the order they are shown and compared.
KPI_FIELDS: tuple[str, ...] = (
    "name",
    "catalogue_code",
    "category",
    "unit",
    "direction",
    "definition",
    "period",
    "target",
    "amber",
    "stretch",
    "weight",
    "baseline_value",
    "baseline_period",
    "baseline_source",
    "source",
    "dataset",
    "formula",
    "row_filter",
    "min_value",
    "max_value",
    "active",
    "objectives",
    "milestones",
)


def plain_decimal(value: Decimal | None) -> str | None:
    """A Decimal as canonical text: no exponent, no trailing zeros ("80", "0.5", "-12.25")."""
    if value is None:
        return None
    normalized = value.normalize()
    text = format(normalized, "f")
    return "0" if text in {"-0", ""} else text


def _canon(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canon(v) for v in value]
    return value


def content_canonical(content: dict[str, Any]) -> dict[str, Any]:
    """Decimals as plain text, dates as ISO, KPIs ordered by code: one form for hashing and diffing."""
    canon = _canon(content)
    canon["kpis"] = sorted(canon.get("kpis", []), key=lambda k: k["code"])
    return canon


def content_hash(content: dict[str, Any]) -> str:
    payload = json.dumps(content_canonical(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class KpiChange:
    code: str
    name: str
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class VersionDiff:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[KpiChange, ...] = ()
    settings: tuple[FieldChange, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.settings)


def _scheme_changes(before: Any, after: Any) -> tuple[FieldChange, ...]:
    """The incentive scheme's terms that differ, each named by its place (``incentive_scheme.credit_rules``)."""
    if before == after:
        return ()
    if not isinstance(before, dict) or not isinstance(after, dict):
        return (FieldChange("incentive_scheme", before, after),)
    keys = sorted(before.keys() | after.keys())
    return tuple(
        FieldChange(f"incentive_scheme.{k}", before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)
    )


def content_diff(before: dict[str, Any], after: dict[str, Any]) -> VersionDiff:
    """KPIs added, removed, and changed field by field between two versions' contents."""
    a, b = content_canonical(before), content_canonical(after)
    a_kpis = {k["code"]: k for k in a.get("kpis", [])}
    b_kpis = {k["code"]: k for k in b.get("kpis", [])}
    changed = []
    for code in sorted(a_kpis.keys() & b_kpis.keys()):
        old, new = a_kpis[code], b_kpis[code]
        diffs = tuple(FieldChange(f, old.get(f), new.get(f)) for f in KPI_FIELDS if old.get(f) != new.get(f))
        if diffs:
            changed.append(KpiChange(code=code, name=new.get("name", code), changes=diffs))
    settings = tuple(
        FieldChange(f, a.get(f), b.get(f)) for f in ("effective_from", "max_active_kpis") if a.get(f) != b.get(f)
    ) + _scheme_changes(a.get("incentive_scheme"), b.get("incentive_scheme"))
    return VersionDiff(
        added=tuple(sorted(b_kpis.keys() - a_kpis.keys())),
        removed=tuple(sorted(a_kpis.keys() - b_kpis.keys())),
        changed=tuple(changed),
        settings=settings,
    )
