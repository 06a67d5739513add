"""Engagement documents in: import one as a new version (export and validation are ``selectors.py``).

An import is one transaction through the existing services: the engagement (and a missing
provider organisation) is created or brought up to date, datasets it does not have yet are
declared, objectives are upserted by key, a new empty draft receives the document's KPIs, and
``--as-agreed`` records it as signed by both parties. Any failure leaves nothing written.
``pactboard.documents.spec`` holds the format.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from pactboard.accounts.models import Membership, Organisation, User
from pactboard.accounts.services import organisation_create
from pactboard.audit.services import audit_record
from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.documents.spec import (
    KPI_FIELD_PATHS,
    AgreementSpec,
    DatasetSpec,
    Document,
    dataset_declaration,
    dataset_shape_differs,
    document_load,
    kpi_fields,
)
from pactboard.engagements.models import Engagement, Objective
from pactboard.engagements.selectors import engagement_list
from pactboard.engagements.services import engagement_create, engagement_update, objective_create, objective_update
from pactboard.incentives.services import version_scheme_set
from pactboard.kpis.content import content_hash
from pactboard.kpis.models import AgreementVersion
from pactboard.kpis.negotiation import version_record_as_agreed
from pactboard.kpis.selectors import version_content
from pactboard.kpis.services import MilestoneSpec, version_draft_start, version_kpi_add
from pactboard.measurements.models import Dataset
from pactboard.measurements.services import dataset_declare

__all__ = ["engagement_document_import"]

# Engagement terms a document sets, beyond the name and the parties that identify the engagement.
_TERMS = (
    "scope",
    "start_date",
    "end_date",
    "currency",
    "monthly_fee",
    "time_zone",
    "review_cadence",
    "report_cadence",
    "max_active_kpis",
)
_OBJECTIVE_TERMS = ("horizon", "statement", "measure", "target", "deadline", "relevance")


# --- import ------------------------------------------------------------------------------------


def _refused(details: list[ErrorDetail], message: str | None = None) -> PactboardError:
    count = f"{len(details)} problem" + ("" if len(details) == 1 else "s")
    return PactboardError(message or f"The engagement document was refused ({count}); nothing was changed.", details)


def _prefixed(exc: PactboardError, prefix: str, paths: dict[str, str] | None = None) -> PactboardError:
    """A service's error, its locations moved to where the problem sits in the document."""
    # A service that named no problem of its own: the error's kind ("invalid", "conflict", ...) is the code.
    details = exc.details or [ErrorDetail(exc.message, code=exc.kind)]
    moved = []
    for d in details:
        head, dot, rest = (d.location or "").partition(".")
        head = (paths or {}).get(head, head)
        location = prefix + (f".{head}{dot}{rest}" if head else "")
        moved.append(ErrorDetail(d.message, location, d.code))
    return PactboardError(f"The engagement document was refused: {exc.message}", moved, kind=exc.kind)


def engagement_document_import(
    *,
    text: str,
    actor: Membership | None,
    as_agreed: bool = False,
    client_signer: Membership | None = None,
    provider_signer: Membership | None = None,
) -> AgreementVersion:
    """Import a document as a new draft version of its engagement (created if missing), or as agreed by both.

    ``as_agreed`` records the version as signed by ``client_signer`` and ``provider_signer``
    outside Pactboard (migrating existing contracts), audited as such. Without it ``actor``, a
    manager of either party, drafts it. All or nothing: a refused document changes nothing.
    """
    # Read and checked (formulas compiled) before the write transaction opens: slow work never
    # holds the database's write lock, which on SQLite would stall every tenant's writes.
    document = document_load(text)
    with transaction.atomic():
        return _document_import(
            document=document,
            actor=actor,
            as_agreed=as_agreed,
            client_signer=client_signer,
            provider_signer=provider_signer,
        )


def _document_import(
    *,
    document: Document,
    actor: Membership | None,
    as_agreed: bool,
    client_signer: Membership | None,
    provider_signer: Membership | None,
) -> AgreementVersion:
    spec = document.engagement
    problems: list[ErrorDetail] = []
    if as_agreed:
        if client_signer is None:
            problems.append(ErrorDetail("name the client's signer to import as agreed", "client_signer", "required"))
        if provider_signer is None:
            problems.append(
                ErrorDetail("name the provider's signer to import as agreed", "provider_signer", "required")
            )
        if not document.kpis:
            problems.append(ErrorDetail("add at least one KPI to import the agreement as signed", "kpis", "no_kpis"))
        if document.agreement is None or document.agreement.effective_from is None:
            problems.append(
                ErrorDetail(
                    "required to import as agreed: the date the signed agreement took effect", "agreement", "required"
                )
            )
    elif client_signer is not None or provider_signer is not None:
        problems.append(ErrorDetail("signers are only for importing as agreed", "client_signer", "not_applicable"))
    actor = actor or client_signer
    if actor is None:
        problems.append(
            ErrorDetail("say who imports the document: a manager of the client or the provider", "actor", "required")
        )
    if problems:
        raise _refused(problems)
    assert actor is not None

    engagement, provider = _engagement_lookup(document=document, actor=actor, problems=problems)
    for role, signer, name in (("client", client_signer, spec.client), ("provider", provider_signer, spec.provider)):
        if signer is not None and (signer.organisation.name != name or signer.organisation.kind != role):
            problems.append(ErrorDetail(f"must be a member of the {role}, {name}", f"{role}_signer", "not_a_member"))
        elif signer is not None and not signer.is_manager:
            problems.append(
                ErrorDetail(f"must be an administrator or manager of {name}", f"{role}_signer", "not_a_manager")
            )
    owners = _owners(document=document, engagement=engagement, actor=actor, provider=provider, problems=problems)
    missing = _datasets_missing(document=document, engagement=engagement, problems=problems)
    if problems:
        raise _refused(problems)

    if engagement is None:
        engagement = _engagement_create(document=document, actor=actor, provider=provider)
    else:
        _engagement_bring_up_to_date(document=document, actor=actor, engagement=engagement)
    _datasets_declare(actor=actor, engagement=engagement, missing=missing)
    objectives = _objectives_upsert(document=document, actor=actor, engagement=engagement, owners=owners)
    version = _version_create(document=document, actor=actor, engagement=engagement, objectives=objectives)
    if as_agreed:
        assert client_signer is not None
        assert provider_signer is not None
        assert document.agreement is not None
        assert document.agreement.effective_from is not None
        try:
            version = version_record_as_agreed(
                version=version,
                client_signer=client_signer,
                provider_signer=provider_signer,
                effective_from=document.agreement.effective_from,
            )
        except PactboardError as exc:
            raise _prefixed(exc, "agreement") from None
    version.refresh_from_db()
    audit_record(
        actor=actor.user,
        organisation=actor.organisation,
        action="engagement.import",
        obj=version,
        engagement_id=engagement.pk,
        after={
            "number": version.number,
            "status": version.status,
            "as_agreed": as_agreed,
            "datasets_declared": [spec.name for _, spec in missing],
            "objectives": [o.key for o in document.objectives],
            "kpis": [kpi_fields(k)["code"] for k in document.kpis],
            "content_hash": content_hash(version_content(version=version)),
        },
    )
    return version


def _engagement_lookup(
    *, document: Document, actor: Membership, problems: list[ErrorDetail]
) -> tuple[Engagement | None, Organisation | None]:
    """The document's engagement if the actor can see it, and its provider organisation if it exists."""
    spec = document.engagement
    found = list(
        engagement_list(membership=actor).filter(name=spec.name, client__name=spec.client, provider__name=spec.provider)
    )
    if len(found) > 1:
        problems.append(
            ErrorDetail("several engagements have this name and these parties", "engagement.name", "ambiguous_name")
        )
        return None, None
    if found:
        return found[0], found[0].provider
    if actor.organisation.name != spec.client or not actor.organisation.is_client:
        problems.append(
            ErrorDetail(
                f"no engagement {spec.name!r} between {spec.client} and {spec.provider} that you can see; "
                f"only a manager of {spec.client} can create it (you act for {actor.organisation})",
                "engagement.client",
                "cannot_create_engagement",
            )
        )
    elif not actor.is_manager:
        problems.append(
            ErrorDetail(
                f"only administrators and managers of {spec.client} can create engagements",
                "engagement",
                "cannot_create_engagement",
            )
        )
    providers = list(Organisation.objects.filter(name=spec.provider))
    if any(not o.is_provider for o in providers):
        problems.append(
            ErrorDetail(f"{spec.provider} is not a provider organisation", "engagement.provider", "not_a_provider")
        )
    elif len(providers) > 1:
        problems.append(
            ErrorDetail(
                f"several provider organisations are named {spec.provider!r}", "engagement.provider", "ambiguous_name"
            )
        )
    return None, providers[0] if len(providers) == 1 else None


def _owners(
    *,
    document: Document,
    engagement: Engagement | None,
    actor: Membership,
    provider: Organisation | None,
    problems: list[ErrorDetail],
) -> dict[str, User]:
    """Objective owners by e-mail: each must be a member of the client or the provider."""
    emails = {o.owner.lower() for o in document.objectives if o.owner}
    if not emails:
        return {}
    org_ids = (
        [engagement.client_id, engagement.provider_id]
        if engagement is not None
        else [actor.organisation_id, *([provider.pk] if provider is not None else [])]
    )
    users = {
        m.user.email: m.user
        for m in Membership.objects.select_related("user").filter(
            organisation_id__in=org_ids, user__email__in=sorted(emails)
        )
    }
    spec = document.engagement
    for i, objective in enumerate(document.objectives):
        if objective.owner and objective.owner.lower() not in users:
            problems.append(
                ErrorDetail(
                    f"{objective.owner} is not a member of {spec.client} or {spec.provider}",
                    f"objectives[{i}].owner",
                    "not_a_member",
                )
            )
    return users


def _datasets_missing(
    *, document: Document, engagement: Engagement | None, problems: list[ErrorDetail]
) -> list[tuple[int, DatasetSpec]]:
    """The document's datasets the engagement has not declared yet (with their index in the document).

    One it has already declared must have the same columns and time column: a declared dataset
    never changes, as its uploaded versions depend on it. Its description is left as it is.
    """
    declared = {d.name: d for d in Dataset.objects.filter(engagement=engagement)} if engagement is not None else {}
    missing: list[tuple[int, DatasetSpec]] = []
    for i, spec in enumerate(document.datasets):
        existing = declared.get(spec.name)
        if existing is None:
            missing.append((i, spec))
            continue
        for d in dataset_shape_differs(declared=existing.schema(), spec=spec):
            problems.append(ErrorDetail(d.message, f"datasets[{i}].{d.location}", d.code))
    return missing


def _datasets_declare(*, actor: Membership, engagement: Engagement, missing: list[tuple[int, DatasetSpec]]) -> None:
    for i, spec in missing:
        try:
            dataset_declare(actor=actor, engagement=engagement, **dataset_declaration(spec))
        except PactboardError as exc:
            raise _prefixed(exc, f"datasets[{i}]") from None


def _engagement_create(*, document: Document, actor: Membership, provider: Organisation | None) -> Engagement:
    spec = document.engagement
    try:
        if provider is None:
            provider = organisation_create(name=spec.provider, kind=Organisation.Kind.PROVIDER, actor=actor.user)
        engagement = engagement_create(
            actor=actor,
            provider=provider,
            name=spec.name,
            scope=spec.scope or "",
            start_date=spec.start_date,
            end_date=spec.end_date,
            currency=spec.currency,
            monthly_fee=spec.monthly_fee,
            review_cadence=spec.review_cadence,
            report_cadence=spec.report_cadence,
            time_zone=spec.time_zone,
            status=spec.status or Engagement.Status.DRAFT,
        )
        if engagement.max_active_kpis != spec.max_active_kpis:
            engagement = engagement_update(actor=actor, engagement=engagement, max_active_kpis=spec.max_active_kpis)
    except PactboardError as exc:
        raise _prefixed(exc, "engagement") from None
    return engagement


def _engagement_bring_up_to_date(*, document: Document, actor: Membership, engagement: Engagement) -> None:
    spec = document.engagement
    wanted: dict[str, Any] = {name: getattr(spec, name) for name in _TERMS}
    wanted["scope"] = spec.scope or ""
    if spec.status is not None:
        wanted["status"] = spec.status
    changes = {name: value for name, value in wanted.items() if getattr(engagement, name) != value}
    if changes:
        try:
            engagement_update(actor=actor, engagement=engagement, **changes)
        except PactboardError as exc:
            raise _prefixed(exc, "engagement") from None


def _objectives_upsert(
    *, document: Document, actor: Membership, engagement: Engagement, owners: dict[str, User]
) -> dict[str, Objective]:
    """Create or update each objective of the document by key; others of the engagement stay as they are.

    Positions follow the document's order, and are only rewritten when that order is not already
    the stored one: re-importing an export changes nothing, so a provider manager may do it.
    """
    ordered = list(engagement.objectives.select_related("owner").order_by("position", "id"))
    existing = {o.key: o for o in ordered}
    keys = [spec.key for spec in document.objectives]
    in_order = all(key in existing for key in keys) and [o.key for o in ordered if o.key in keys] == keys
    result: dict[str, Objective] = {}
    for i, spec in enumerate(document.objectives):
        fields: dict[str, Any] = {
            "horizon": spec.horizon,
            "statement": spec.statement,
            "measure": spec.measure or "",
            "target": spec.target or "",
            "deadline": spec.deadline,
            "relevance": spec.relevance or "",
            "owner": owners[spec.owner.lower()] if spec.owner else None,
        }
        if not in_order:
            fields["position"] = i
        current = existing.get(spec.key)
        try:
            if current is None:
                result[spec.key] = objective_create(actor=actor, engagement=engagement, key=spec.key, **fields)
                continue
            changes = {name: value for name, value in fields.items() if getattr(current, name) != value}
            result[spec.key] = objective_update(actor=actor, objective=current, **changes) if changes else current
        except PactboardError as exc:
            raise _prefixed(exc, f"objectives[{i}]") from None
    return result


def _version_create(
    *, document: Document, actor: Membership, engagement: Engagement, objectives: dict[str, Objective]
) -> AgreementVersion:
    """A new draft holding exactly the document's KPIs."""
    agreement = document.agreement or AgreementSpec()
    try:
        version = version_draft_start(actor=actor, engagement=engagement, note=agreement.note or "", empty=True)
    except PactboardError as exc:
        raise _prefixed(exc, "agreement") from None
    if agreement.effective_from is not None:
        # The date the parties intend; proposing may still change it. No service edits a draft's date alone.
        AgreementVersion.objects.filter(pk=version.pk).update(effective_from=agreement.effective_from)
        version.effective_from = agreement.effective_from
    for i, kpi in enumerate(document.kpis):
        fields = kpi_fields(kpi)
        try:
            version_kpi_add(
                actor=actor,
                version=version,
                objective_ids=[objectives[key].pk for key in kpi.objectives],
                milestones=[
                    MilestoneSpec(date=m.date, target=m.target, amber=m.amber, stretch=m.stretch, note=m.note or "")
                    for m in kpi.milestones
                ],
                **fields,
            )
        except PactboardError as exc:
            raise _prefixed(exc, f"kpis[{i}]", KPI_FIELD_PATHS) from None
    if document.incentives is not None:
        try:
            version = version_scheme_set(actor=actor, version=version, scheme=document.incentives)
        except PactboardError as exc:
            raise _prefixed(exc, "incentives") from None
    return version
