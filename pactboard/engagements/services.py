"""Writes for engagements, objectives and provider profiles. Each owns its transaction and audit event."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils.text import slugify

from pactboard.accounts.models import Membership, Organisation, Role
from pactboard.accounts.services import invitation_create, organisation_create
from pactboard.audit.services import audit_record, model_snapshot
from pactboard.core.errors import ErrorDetail, PactboardError, invalid
from pactboard.core.formatting import date_text
from pactboard.core.forms import validation_error_code
from pactboard.core.locks import for_update
from pactboard.core.policy import verdict_require
from pactboard.engagements import policy, ports
from pactboard.engagements.models import BusinessChange, Engagement, Objective, ProviderProfile

ENGAGEMENT_FIELDS = (
    "name",
    "scope",
    "start_date",
    "end_date",
    "currency",
    "monthly_fee",
    "review_cadence",
    "report_cadence",
    "time_zone",
    "status",
    "max_active_kpis",
)
OBJECTIVE_FIELDS = ("key", "horizon", "statement", "measure", "target", "deadline", "owner", "relevance", "position")
PROFILE_FIELDS = ("summary", "expertise", "resources", "locations", "certifications", "limitations")


def _validation_to_domain(exc: ValidationError, message: str) -> PactboardError:
    details: list[ErrorDetail] = []
    # Each message keeps its ValidationError's code, in the API's words (validation_error_code).
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            loc = None if field == "__all__" else field
            details.extend(
                ErrorDetail(m, loc, validation_error_code(e))
                for m, e in zip(messages, exc.error_dict[field], strict=True)
            )
    else:
        details.extend(
            ErrorDetail(m, None, validation_error_code(e)) for m, e in zip(exc.messages, exc.error_list, strict=True)
        )
    return PactboardError(message, details)


def _full_clean(obj: Any, message: str, exclude: list[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise _validation_to_domain(exc, message) from None


def _require_client_manager(actor: Membership, engagement: Engagement | None = None) -> None:
    if engagement is None:
        verdict_require(policy.engagement_create_may(actor=actor))
    else:
        policy.engagement_require(actor=actor, engagement=engagement, action="edit")


def engagement_create(
    *,
    actor: Membership,
    provider: Organisation | None = None,
    new_provider_name: str = "",
    new_provider_admin_email: str = "",
    name: str,
    start_date: date,
    end_date: date,
    currency: str,
    monthly_fee: Decimal = Decimal("0"),
    scope: str = "",
    review_cadence: str = "monthly",
    report_cadence: str = "monthly",
    time_zone: str = "UTC",
    status: str = Engagement.Status.DRAFT,
) -> Engagement:
    """Create an engagement of the actor's client organisation and invite the provider."""
    _require_client_manager(actor)
    if provider is None and not new_provider_name.strip():
        raise invalid(
            "Choose a provider, or name a new provider organisation to invite.", location="provider", code="required"
        )
    if provider is not None and not provider.is_provider:
        raise invalid(f"{provider} is not a provider organisation.", location="provider", code="not_a_provider")
    if provider is None and "@" not in new_provider_admin_email:
        raise invalid(
            "Give the e-mail address of the new provider's administrator, who will receive the invitation.",
            location="new_provider_admin_email",
            code="invalid_email",
        )
    with transaction.atomic():
        invited_new = provider is None
        if provider is None:
            provider = organisation_create(name=new_provider_name, kind="provider", actor=actor.user)
        engagement = Engagement(
            client=actor.organisation,
            provider=provider,
            name=name.strip(),
            scope=scope,
            start_date=start_date,
            end_date=end_date,
            currency=(currency or "").upper(),
            monthly_fee=monthly_fee,
            review_cadence=review_cadence,
            report_cadence=report_cadence,
            time_zone=time_zone,
            status=status,
            created_by=actor.user,
        )
        _full_clean(engagement, "The engagement could not be saved.", exclude=["created_by"])
        engagement.save()
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="engagement.create",
            obj=engagement,
            after=model_snapshot(engagement),
            engagement_id=engagement.pk,
        )
        if invited_new:
            invitation_create(
                actor=None,
                organisation=provider,
                email=new_provider_admin_email,
                role=Role.ADMIN,
                invited_by=actor.user,
            )
        else:
            _notify_provider(engagement)
    return engagement


def _notify_provider(engagement: Engagement) -> None:
    recipients = list(
        Membership.objects.filter(
            organisation_id=engagement.provider_id, role__in=[Role.ADMIN, Role.MANAGER]
        ).values_list("user__email", flat=True)
    )
    if not recipients:
        return
    link = settings.SITE_URL + reverse("engagements:detail", args=[engagement.pk])
    transaction.on_commit(
        lambda: send_mail(
            subject=f"{engagement.client.name} added you to the engagement {engagement.name}",
            message=(
                f"{engagement.client.name} invites your organisation to the engagement {engagement.name}.\n\n{link}\n"
            ),
            from_email=None,
            recipient_list=recipients,
        )
    )


def engagement_update(*, actor: Membership, engagement: Engagement, **changes: Any) -> Engagement:
    """Change an engagement's terms; only its client's managers may."""
    _require_client_manager(actor, engagement)
    unknown = set(changes) - set(ENGAGEMENT_FIELDS)
    if unknown:
        raise invalid(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        locked = for_update(Engagement.objects.all()).get(pk=engagement.pk)
        before = model_snapshot(locked, list(changes))
        for field, value in changes.items():
            setattr(locked, field, value)
        if "currency" in changes:
            locked.currency = (locked.currency or "").upper()
        _full_clean(locked, "The engagement could not be saved.", exclude=["created_by"])
        locked.save()
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="engagement.update",
            obj=locked,
            before=before,
            after=model_snapshot(locked, list(changes)),
            engagement_id=locked.pk,
        )
    return locked


def _require_objective_editor(actor: Membership, engagement: Engagement) -> None:
    # The client sets objectives (PRODUCT.md, "who uses it"); the provider reads and discusses them.
    policy.engagement_require(actor=actor, engagement=engagement, action="edit_objectives")


def _check_owner(engagement: Engagement, owner: Any) -> None:
    if owner is None:
        return
    if not Membership.objects.filter(
        user=owner, organisation_id__in=[engagement.client_id, engagement.provider_id]
    ).exists():
        raise invalid(
            "The owner must be a member of the client or the provider.", location="owner", code="not_a_member"
        )


def _objective_key(engagement: Engagement, wanted: str, statement: str) -> str:
    """The objective's key: the one asked for (must be free), or one made from the statement."""
    taken = set(engagement.objectives.values_list("key", flat=True))
    if wanted:
        if wanted in taken:
            raise invalid(
                f"Another objective of this engagement already has the key {wanted!r}.",
                location="key",
                code="duplicate_key",
            )
        return wanted
    base = slugify(statement)[:50].strip("-") or "objective"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


def objective_create(*, actor: Membership, engagement: Engagement, **fields: Any) -> Objective:
    """Add an objective to an engagement."""
    _require_objective_editor(actor, engagement)
    unknown = set(fields) - set(OBJECTIVE_FIELDS)
    if unknown:
        raise invalid(f"Unknown objective fields: {', '.join(sorted(unknown))}.")
    _check_owner(engagement, fields.get("owner"))
    with transaction.atomic():
        fields["key"] = _objective_key(engagement, fields.get("key") or "", fields.get("statement") or "")
        if "position" not in fields:
            fields["position"] = engagement.objectives.count()
        objective = Objective(engagement=engagement, **fields)
        _full_clean(objective, "The objective could not be saved.")
        objective.save()
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="objective.create",
            obj=objective,
            after=model_snapshot(objective),
            engagement_id=engagement.pk,
        )
    return objective


def objective_update(*, actor: Membership, objective: Objective, **changes: Any) -> Objective:
    """Change an objective."""
    _require_objective_editor(actor, objective.engagement)
    unknown = set(changes) - set(OBJECTIVE_FIELDS)
    if unknown:
        raise invalid(f"Unknown objective fields: {', '.join(sorted(unknown))}.")
    if "owner" in changes:
        _check_owner(objective.engagement, changes["owner"])
    with transaction.atomic():
        locked = for_update(Objective.objects.all()).get(pk=objective.pk)
        before = model_snapshot(locked)
        for field, value in changes.items():
            setattr(locked, field, value)
        _full_clean(locked, "The objective could not be saved.")
        locked.save()
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="objective.update",
            obj=locked,
            before=before,
            after=model_snapshot(locked),
            engagement_id=locked.engagement_id,
        )
    return locked


def provider_profile_update(*, actor: Membership, **fields: Any) -> ProviderProfile:
    """Create or change the actor's provider organisation's capability profile."""
    verdict_require(policy.provider_profile_edit_may(actor=actor))
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise invalid(f"Unknown profile fields: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        profile, _ = for_update(ProviderProfile.objects.all()).get_or_create(organisation=actor.organisation)
        before = model_snapshot(profile, list(PROFILE_FIELDS))
        for field, value in fields.items():
            setattr(profile, field, value.strip() if isinstance(value, str) else value)
        _full_clean(profile, "The profile could not be saved.")
        profile.save()
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="provider_profile.update",
            obj=profile,
            before=before,
            after=model_snapshot(profile, list(PROFILE_FIELDS)),
        )
    return profile


# --- business-change log (F10) --------------------------------------------------------------------


def business_change_earliest(*, engagement: Engagement) -> date:
    """The earliest date a business change may have: one year before the engagement starts.

    A change in the year before the start (a launch, a reorganisation) can explain the baseline and the
    first values, so it may be logged; anything earlier is almost surely a mistyped year.
    """
    start = engagement.start_date
    try:
        return start.replace(year=start.year - 1)
    except ValueError:  # 29 February: a year earlier has no such day
        return start.replace(year=start.year - 1, day=28)


def business_change_record(
    *,
    actor: Membership,
    engagement: Engagement,
    date: date,
    kind: str,
    title: str,
    description: str = "",
    kpi_codes: list[str] | None = None,
) -> BusinessChange:
    """Log a market shift, launch, economic or organisational event; charts show it at its date."""
    policy.engagement_require(actor=actor, engagement=engagement, action="log_change")
    earliest = business_change_earliest(engagement=engagement)
    if date < earliest:
        # Refused rather than warned: a change decades early is a typo (1926 for 2026) that would put a
        # marker outside every chart and mislead anyone reading the log.
        raise invalid(
            f"{date_text(date)} is more than a year before the engagement starts "
            f"({date_text(engagement.start_date)}): check the year; "
            f"changes from {date_text(earliest)} on can be logged.",
            location="date",
            code="out_of_range",
        )
    codes = sorted(set(kpi_codes or []))
    known = ports.engagement_kpi_names()(engagement=engagement)
    unknown = [c for c in codes if c not in known]
    if unknown:
        listed = ", ".join(sorted(known)) or "none yet"
        raise invalid(
            f"Unknown KPI {', '.join(unknown)}: link the change to KPIs of this engagement ({listed}).",
            location="kpi_codes",
            code="unknown_kpi",
        )
    with transaction.atomic():
        change = BusinessChange(
            engagement=engagement,
            date=date,
            kind=kind,
            title=title.strip(),
            description=description.strip(),
            kpi_codes=codes,
            created_by=actor.user,
            created_by_org=actor.organisation,
        )
        _full_clean(change, "The business change could not be logged.", exclude=["created_by", "created_by_org"])
        change.save()
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="business_change.record",
            obj=change,
            after=model_snapshot(change),
            engagement_id=engagement.pk,
        )
    return change
