"""What every KPI page shares: the actor, the version and KPI look-ups, party signatures, diff rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.urls import reverse

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.accounts.models import Membership, Organisation
from pactboard.core.errors import HTTP_STATUS, PactboardError, not_found
from pactboard.core.periods import Period
from pactboard.engagements import selectors as engagement_selectors
from pactboard.engagements.models import Engagement
from pactboard.kpis import selectors
from pactboard.kpis.content import FieldChange, VersionDiff, plain_decimal
from pactboard.kpis.models import AgreementVersion, Comment, Signature, VersionKpi

Status = AgreementVersion.Status


OPEN = (Status.DRAFT, Status.PROPOSED)


def _actor(request: AuthenticatedHttpRequest) -> Membership:
    return request.membership


def _reraise_access(exc: PactboardError) -> None:
    """Not-found and forbidden are pages of their own (404, 403), never form errors."""
    if exc.kind in ("not_found", "forbidden"):
        raise exc


def _status_of(exc: PactboardError) -> int:
    return HTTP_STATUS.get(exc.kind, 400)


def _engagement(request: AuthenticatedHttpRequest, pk: int) -> Engagement:
    return engagement_selectors.engagement_get(membership=_actor(request), engagement_id=pk)


def _version(request: AuthenticatedHttpRequest, pk: int, version_id: int) -> AgreementVersion:
    version = selectors.version_get(membership=_actor(request), version_id=version_id)
    if version.engagement_id != pk:
        raise not_found("No such agreement version.")
    return version


def _kpi(request: AuthenticatedHttpRequest, pk: int, version_id: int, kpi_id: int) -> VersionKpi:
    kpi = selectors.version_kpi_get(membership=_actor(request), kpi_id=kpi_id)
    if kpi.version_id != version_id or kpi.version.engagement_id != pk:
        raise not_found("No such KPI.")
    return kpi


def _version_url(version: AgreementVersion, anchor: str = "") -> str:
    url = reverse("kpis:version", args=[version.engagement_id, version.pk])
    return f"{url}#{anchor}" if anchor else url


_NUMBERS = ("target", "amber", "stretch", "weight", "baseline_value", "min_value", "max_value")


def _kpi_row(kpi: VersionKpi, comments: list[Comment] | None = None) -> dict[str, Any]:
    """A KPI with its numbers as plain text ("80", not "80.000000") for display."""
    numbers = {name: plain_decimal(getattr(kpi, name)) for name in _NUMBERS}
    milestones = [
        {
            "date": m.date,
            "target": plain_decimal(m.target),
            "amber": plain_decimal(m.amber),
            "stretch": plain_decimal(m.stretch),
            "note": m.note,
        }
        for m in kpi.milestones.all()
    ]
    objectives = [link.objective for link in kpi.objective_links.all()]
    return {"kpi": kpi, "n": numbers, "milestones": milestones, "objectives": objectives, "comments": comments or []}


@dataclass(frozen=True)
class PartySignature:
    side: str
    organisation: Organisation
    signature: Signature | None


def _party_signatures(engagement: Engagement, signatures: list[Signature]) -> list[PartySignature]:
    by_org = {s.organisation_id: s for s in signatures}
    return [
        PartySignature("Client", engagement.client, by_org.get(engagement.client_id)),
        PartySignature("Provider", engagement.provider, by_org.get(engagement.provider_id)),
    ]


_FIELD_LABELS = {
    "catalogue_code": "Catalogue KPI",
    "amber": "Amber threshold",
    "stretch": "Stretch target",
    "period": "Measured per",
    "source": "Data source",
    "row_filter": "Row filter",
    "min_value": "Lowest possible value",
    "max_value": "Highest possible value",
    "effective_from": "Effective from",
    "max_active_kpis": "Most active KPIs before a warning",
}


def _label(field: str) -> str:
    return _FIELD_LABELS.get(field, field.replace("_", " ").capitalize())


def _shown(value: Any) -> str:
    """A content value as text: canonical decimals, lists of objectives and milestones."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return "; ".join(
                f"{m['date']}: {m['target']}"
                + "".join(f", {k} {m[k]}" for k in ("amber", "stretch") if m.get(k) is not None)
                + (f" ({m['note']})" if m.get("note") else "")
                for m in value
            )
        return ", ".join(str(v) for v in value)
    return str(plain_decimal(value)) if hasattr(value, "normalize") else str(value)


def _change_row(change: FieldChange, kpi: str = "", code: str = "") -> dict[str, str]:
    return {
        "kpi": kpi,
        "code": code,
        "field": _label(change.field),
        "before": _shown(change.before),
        "after": _shown(change.after),
    }


def _diff_rows(
    diff: VersionDiff,
    *,
    draft: bool = False,
    rescored: list[Period] | None = None,
    dates: tuple[date | None, date | None] = (None, None),
) -> dict[str, Any]:
    """The diff as rows; ``rescored`` (with the two versions' ``dates``) names a retroactive effective date."""
    # A draft has no effective date until it is proposed: that is not a change worth showing.
    settings = [c for c in diff.settings if not (draft and c.field == "effective_from" and c.after is None)]
    if rescored and not any(c.field == "effective_from" for c in settings):
        # The same date as the version before is no change of text, but it re-scores history: say so.
        settings.append(FieldChange("effective_from", *dates))
    rows = [_change_row(c) for c in settings]
    for row, change in zip(rows, settings, strict=True):
        if change.field == "effective_from" and rescored:
            row["after"] += f" (retroactive: re-scores {selectors.rescored_text(rescored)})"
    return {
        "added": diff.added,
        "removed": diff.removed,
        "settings": rows,
        "changed": [_change_row(c, kpi.name, kpi.code) for kpi in diff.changed for c in kpi.changes],
        "is_empty": not (diff.added or diff.removed or diff.changed or settings),
    }
