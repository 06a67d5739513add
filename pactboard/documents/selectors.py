"""Engagement documents out: an engagement (and one of its versions) as a document, as YAML; a document checked.

Reads only; the import that writes one is ``services.py``. docs/engagement-as-code.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from pactboard.core.errors import ErrorDetail, PactboardError, invalid, not_found
from pactboard.documents.spec import (
    AgreementSpec,
    Document,
    EngagementSpec,
    ObjectiveSpec,
    dataset_spec_from_declared,
    document_dump,
    document_load,
    kpi_spec_from_content,
)
from pactboard.engagements.models import Engagement
from pactboard.incentives.calc.terms import scheme_from_json, scheme_to_json
from pactboard.kpis.models import AgreementVersion
from pactboard.kpis.selectors import version_content, version_current
from pactboard.measurements.models import Dataset


def engagement_version_get(*, engagement: Engagement, number: int) -> AgreementVersion:
    """Version ``number`` of the engagement."""
    version = AgreementVersion.objects.filter(engagement=engagement, number=number).first()
    if version is None:
        raise not_found(f"{engagement.name} has no version {number}.")
    return version


def engagement_document(*, engagement: Engagement, version: AgreementVersion | None = None) -> Document:
    """The engagement, its objectives and a version's KPI set (default: the newest in play) as a document."""
    if version is None:
        version = version_current(engagement=engagement)
    elif version.engagement_id != engagement.pk:
        raise invalid("That version belongs to another engagement.")
    objectives = engagement.objectives.select_related("owner").order_by("position", "id")
    content = version_content(version=version) if version is not None else {"kpis": []}
    problems: list[ErrorDetail] = []
    # Each part is built on its own, so that stored data the format cannot hold (a control character
    # typed into a name, say) is named at its path rather than crashing the export.
    engagement_spec = _part(
        problems,
        "engagement",
        lambda: EngagementSpec(
            name=engagement.name,
            client=engagement.client.name,
            provider=engagement.provider.name,
            scope=engagement.scope or None,
            start_date=engagement.start_date,
            end_date=engagement.end_date,
            currency=engagement.currency,
            monthly_fee=engagement.monthly_fee,
            time_zone=engagement.time_zone,
            review_cadence=engagement.review_cadence,  # type: ignore[arg-type]
            report_cadence=engagement.report_cadence,  # type: ignore[arg-type]
            status=engagement.status,  # type: ignore[arg-type]
            max_active_kpis=engagement.max_active_kpis,
        ),
    )
    dataset_specs = [
        _part(
            problems,
            f"datasets[{i}]",
            lambda d=d: dataset_spec_from_declared(schema=d.schema(), description=d.description),  # type: ignore[misc]
        )
        for i, d in enumerate(Dataset.objects.filter(engagement=engagement).order_by("name"))
    ]
    objective_specs = [
        _part(
            problems,
            f"objectives[{i}]",
            lambda o=o: ObjectiveSpec(  # type: ignore[misc]
                key=o.key,
                horizon=o.horizon,
                statement=o.statement,
                measure=o.measure or None,
                target=o.target or None,
                deadline=o.deadline,
                owner=o.owner.email if o.owner else None,
                relevance=o.relevance or None,
            ),
        )
        for i, o in enumerate(objectives)
    ]
    kpi_specs = [
        _part(problems, f"kpis[{i}]", lambda k=k: kpi_spec_from_content(k))  # type: ignore[misc]
        for i, k in enumerate(content["kpis"])
    ]
    agreement = None
    if version is not None and (version.effective_from is not None or version.note):
        agreement = _part(
            problems,
            "agreement",
            lambda: AgreementSpec(effective_from=version.effective_from, note=version.note or None),
        )
    if problems:
        raise PactboardError(
            f"{engagement.name} cannot be written as a document: correct the fields listed in Pactboard first.",
            problems,
        )
    return Document(
        pactboard=1,
        engagement=engagement_spec,
        datasets=dataset_specs,
        objectives=objective_specs,
        kpis=kpi_specs,
        agreement=agreement,
        incentives=_scheme_canonical(content.get("incentive_scheme")),
    )


def _scheme_canonical(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    # PostgreSQL's jsonb gives an object's keys back in its own order (shortest first), SQLite in the
    # order written: re-read the terms and write them in their one order, so export is byte-stable.
    return None if stored is None else scheme_to_json(scheme_from_json(stored))


def _part[T](problems: list[ErrorDetail], prefix: str, build: Callable[[], T]) -> T:
    """``build()``, its validation errors added to ``problems`` at their paths in the document."""
    try:
        return build()
    except ValidationError as exc:
        for e in exc.errors():
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"])
            problems.append(ErrorDetail(str(e["msg"]), prefix + path, e["type"]))
        return None  # type: ignore[return-value]  # never used: the caller raises when problems is not empty


def engagement_document_export(*, engagement: Engagement, version: AgreementVersion | None = None) -> str:
    """The engagement as a YAML document (the newest version in play unless ``version`` is given)."""
    return document_dump(engagement_document(engagement=engagement, version=version))


def engagement_document_validate(*, text: str) -> Document:
    """Parse and check a document without touching the database; raise PactboardError listing every problem."""
    return document_load(text)


__all__ = [
    "engagement_document",
    "engagement_document_export",
    "engagement_document_validate",
    "engagement_version_get",
]
