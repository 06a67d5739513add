"""Writes that carry a version of the KPI set to agreement: propose, comment, counter, withdraw, sign.

A draft (``kpis.services``) is frozen by a proposal, answered by a counter-proposal or
signatures, and agreed when both parties have signed the hash of its exact content; a contract
signed outside Pactboard is recorded as agreed. Each service owns its transaction and writes its
audit event. docs/agreements.md.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from pactboard.accounts.models import Membership, Organisation, User
from pactboard.core.errors import ErrorDetail, PactboardError, invalid
from pactboard.core.locks import for_update
from pactboard.kpis import policy
from pactboard.kpis.content import content_hash
from pactboard.kpis.models import AgreementVersion, Comment, Signature
from pactboard.kpis.selectors import (
    rescored_text,
    version_content,
    version_next_period_start,
    version_rescored_periods,
)
from pactboard.kpis.services import _audit, version_draft_start
from pactboard.kpis.signals import version_agreed

Status = AgreementVersion.Status


def version_propose(
    *,
    actor: Membership,
    version: AgreementVersion,
    effective_from: date | None = None,
    note: str | None = None,
    retroactive: bool = False,
    now: datetime | None = None,
) -> AgreementVersion:
    """Freeze a draft for review by the other party; its content hash is what both will sign.

    Without a date it takes effect from the start of the next period. A date that re-scores
    periods already scored under an agreement needs ``retroactive=True``: changing a target must
    not silently re-judge history.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = for_update(AgreementVersion.objects.all()).select_related("engagement").get(pk=version.pk)
        policy.version_require(actor=actor, version=locked, action="propose")
        engagement = locked.engagement
        errors: list[ErrorDetail] = []
        if not locked.kpis.exists():
            errors.append(ErrorDetail("Add at least one KPI before proposing.", None, "no_kpis"))
        next_start = version_next_period_start(version=locked, now=now)
        effective_from = effective_from or next_start
        rescored = version_rescored_periods(version=locked, effective_from=effective_from, now=now)
        if not engagement.start_date <= effective_from <= engagement.end_date:
            errors.append(
                ErrorDetail("must fall within the engagement's dates", "effective_from", "date_outside_engagement")
            )
        elif rescored and not retroactive:
            errors.append(
                ErrorDetail(
                    f"From {effective_from:%Y-%m-%d} this version re-scores {len(rescored)} periods already "
                    f"scored ({rescored_text(rescored)}). Choose {next_start:%Y-%m-%d}, the start of the next "
                    "period, or confirm that the change is retroactive.",
                    "effective_from",
                    "retroactive_unconfirmed",
                )
            )
        if errors:
            raise PactboardError("The version could not be proposed.", errors)
        locked.effective_from = effective_from
        if note is not None:
            locked.note = note
        locked.status = Status.PROPOSED
        locked.proposed_by_org = actor.organisation
        locked.proposed_at = timezone.now()
        locked.content_hash = content_hash(version_content(version=locked))
        locked.save()
        _audit(
            actor,
            "agreement.propose",
            locked,
            after={
                "number": locked.number,
                "effective_from": effective_from,
                "content_hash": locked.content_hash,
                "rescores": [p.label for p in rescored],
            },
        )
    return locked


def version_comment(*, actor: Membership, version: AgreementVersion, body: str, kpi_code: str = "") -> Comment:
    """Comment on a version, or on one of its KPIs."""
    policy.version_require(actor=actor, version=version, action="comment")
    if not body.strip():
        raise invalid("Write something.", location="body", code="required")
    if kpi_code and not version.kpis.filter(code=kpi_code).exists():
        raise invalid(f"Version {version.number} has no KPI {kpi_code!r}.", location="kpi_code", code="unknown_kpi")
    with transaction.atomic():
        comment = Comment.objects.create(
            version=version, kpi_code=kpi_code, author=actor.user, organisation=actor.organisation, body=body.strip()
        )
        _audit(actor, "agreement.comment", version, after={"kpi_code": kpi_code, "body": comment.body})
    return comment


def version_counter_propose(*, actor: Membership, version: AgreementVersion, note: str = "") -> AgreementVersion:
    """Answer a proposal with a new draft based on it; the proposal is superseded."""
    with transaction.atomic():
        locked = for_update(AgreementVersion.objects.all()).get(pk=version.pk)
        policy.version_require(actor=actor, version=locked, action="counter")
        locked.status = Status.SUPERSEDED
        locked.save(update_fields=["status", "updated_at"])
        _audit(actor, "agreement.supersede", locked, after={"number": locked.number})
        draft = version_draft_start(actor=actor, engagement=locked.engagement, based_on=locked, note=note)
    return draft


def version_withdraw(*, actor: Membership, version: AgreementVersion) -> AgreementVersion:
    """Withdraw a draft or one's own proposal that is not yet agreed."""
    with transaction.atomic():
        locked = for_update(AgreementVersion.objects.all()).select_related("engagement").get(pk=version.pk)
        policy.version_require(actor=actor, version=locked, action="withdraw")
        locked.status = Status.WITHDRAWN
        locked.save(update_fields=["status", "updated_at"])
        _audit(actor, "agreement.withdraw", locked, after={"number": locked.number})
    return locked


def _sign(
    *, version: AgreementVersion, organisation: Organisation, signer: User, recorded_as_agreed: bool
) -> Signature:
    signature = Signature.objects.create(
        version=version,
        organisation=organisation,
        signer=signer,
        signed_at=timezone.now(),
        content_hash=version.content_hash,
        recorded_as_agreed=recorded_as_agreed,
    )
    parties = {version.engagement.client_id, version.engagement.provider_id}
    signed = set(Signature.objects.filter(version=version).values_list("organisation_id", flat=True))
    if parties <= signed:
        version.status = Status.AGREED
        version.agreed_at = timezone.now()
        version.save(update_fields=["status", "agreed_at", "updated_at"])
        version_agreed.send(sender=AgreementVersion, version=version, user=signer, organisation=organisation)
    return signature


def version_sign(*, actor: Membership, version: AgreementVersion) -> Signature:
    """Sign a proposed version for the actor's organisation: the hash of its exact content."""
    with transaction.atomic():
        # The row lock serialises concurrent signatures: each counts once, and the last one agrees.
        locked = for_update(AgreementVersion.objects.all()).select_related("engagement").get(pk=version.pk)
        signed_orgs = set(Signature.objects.filter(version=locked).values_list("organisation_id", flat=True))
        policy.version_require(actor=actor, version=locked, action="sign", signed_orgs=signed_orgs)
        recomputed = content_hash(version_content(version=locked))
        if recomputed != locked.content_hash:
            raise PactboardError(
                "The content of this version no longer matches what was proposed: it cannot be signed.", kind="conflict"
            )
        signature = _sign(version=locked, organisation=actor.organisation, signer=actor.user, recorded_as_agreed=False)
        _audit(
            actor,
            "agreement.sign",
            locked,
            after={
                "number": locked.number,
                "content_hash": locked.content_hash,
                "agreed": locked.status == Status.AGREED,
            },
        )
    return signature


def version_record_as_agreed(
    *, version: AgreementVersion, client_signer: Membership, provider_signer: Membership, effective_from: date
) -> AgreementVersion:
    """Record a draft as signed by both parties outside Pactboard (migrating existing contracts); audited as such."""
    engagement = version.engagement
    if client_signer.organisation_id != engagement.client_id or not client_signer.is_manager:
        raise invalid(
            "The client signer must be an administrator or manager of the client.",
            location="client_signer",
            code="not_a_manager",
        )
    if provider_signer.organisation_id != engagement.provider_id or not provider_signer.is_manager:
        raise invalid(
            "The provider signer must be an administrator or manager of the provider.",
            location="provider_signer",
            code="not_a_manager",
        )
    with transaction.atomic():
        # Recording a contract signed elsewhere: its date is the parties' own, however far back.
        proposed = version_propose(
            actor=client_signer, version=version, effective_from=effective_from, retroactive=True
        )
        for signer in (client_signer, provider_signer):
            _sign(version=proposed, organisation=signer.organisation, signer=signer.user, recorded_as_agreed=True)
            _audit(
                signer,
                "agreement.record_as_agreed",
                proposed,
                after={"number": proposed.number, "content_hash": proposed.content_hash, "signed_outside": True},
            )
        proposed.refresh_from_db()
    return proposed
