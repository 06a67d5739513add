"""Writes for incentives: a version's scheme, a period's draft settlement, approvals, finality.

Each service owns its transaction and writes its audit event. A final settlement never changes;
a value corrected after it becomes one adjustment line in the next settlement drafted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from pactboard.accounts.models import Membership, Role
from pactboard.audit.services import audit_record
from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.core.locks import for_update
from pactboard.core.periods import zone
from pactboard.engagements.models import Engagement
from pactboard.governance.caused import action_open_for_cause
from pactboard.incentives import policy
from pactboard.incentives.calc import BonusRule, CreditRule, scheme_from_json, scheme_to_json
from pactboard.incentives.models import Settlement
from pactboard.incentives.selectors import month_parse, settlement_inputs, settlement_recompute
from pactboard.incentives.statements import inputs_to_json, settlement_hash, statement_to_json
from pactboard.kpis import policy as kpi_policy
from pactboard.kpis.models import AgreementVersion
from pactboard.kpis.selectors import engagement_kpi_names

# Days from finalisation (a day in the engagement's zone) to the due date of a critical miss's
# action. Neither the scheme nor the engagement states one yet; a setting would replace this.
CRITICAL_ACTION_DUE_DAYS = 14


def version_scheme_set(
    *, actor: Membership, version: AgreementVersion, scheme: dict[str, Any] | None
) -> AgreementVersion:
    """Write (or remove, with None) the incentive scheme of a draft; it is proposed and signed with the KPIs."""
    with transaction.atomic():
        locked = for_update(AgreementVersion.objects.all()).select_related("engagement").get(pk=version.pk)
        kpi_policy.version_require(actor=actor, version=locked, action="edit")
        stored = None
        if scheme is not None:
            terms = scheme_from_json(scheme)
            problems = []
            if terms.scheme.currency != locked.engagement.currency:
                problems.append(
                    ErrorDetail(
                        f"must be the engagement's currency, {locked.engagement.currency}",
                        "currency",
                        "currency_mismatch",
                    )
                )
            codes = set(locked.kpis.values_list("code", flat=True))
            rules: list[tuple[str, CreditRule | BonusRule]] = [("credit_rules", r) for r in terms.scheme.credit_rules]
            rules += [("bonus_rules", r) for r in terms.scheme.bonus_rules]
            index: dict[str, int] = {}
            for kind, rule in rules:
                i = index.get(kind, 0)
                index[kind] = i + 1
                if rule.kpi not in codes:
                    known = ", ".join(sorted(codes)) or "none yet"
                    problems.append(
                        ErrorDetail(
                            f"names no KPI of version {locked.number} (known: {known})",
                            f"{kind}[{i}].kpi",
                            "unknown_kpi",
                        )
                    )
            if problems:
                raise PactboardError("The incentive scheme could not be saved: correct the terms listed.", problems)
            stored = scheme_to_json(terms)
        before = locked.incentive_scheme
        locked.incentive_scheme = stored
        locked.save(update_fields=["incentive_scheme", "updated_at"])
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="agreement.scheme_set",
            obj=locked,
            engagement_id=locked.engagement_id,
            before={"incentive_scheme": before},
            after={"incentive_scheme": stored},
        )
    return locked


def _totals(statement: dict[str, Any]) -> dict[str, Any]:
    return {k: statement[k] for k in ("credits_due", "bonuses", "net", "adjustments", "payable")}


def settlement_draft(*, actor: Membership, engagement: Engagement, period: str) -> Settlement:
    """Compute the period's settlement as the data stands now: a new draft, or the draft recomputed.

    Recomputing a draft whose figures changed clears the approvals given (they approved other numbers).
    """
    month = month_parse(period)
    policy.settlement_draft_require(actor=actor, engagement=engagement)
    with transaction.atomic():
        locked = for_update(Engagement.objects.all()).get(pk=engagement.pk)
        existing = Settlement.objects.filter(engagement=locked, period=month.label).first()
        if existing is not None:
            policy.settlement_require(actor=actor, settlement=existing, action="draft")
        inputs = settlement_inputs(engagement=locked, period=month, exclude_id=None)
        statement = settlement_recompute(inputs=inputs)
        inputs_json = inputs_to_json(
            figures=inputs.figures, before=inputs.before, after=inputs.after, corrections=inputs.corrections
        )
        statement_json = statement_to_json(statement)
        digest = settlement_hash(
            period=month.label, version_id=inputs.version.pk, inputs=inputs_json, statement=statement_json
        )
        fields = {
            "version": inputs.version,
            "currency": statement.currency,
            "inputs": inputs_json,
            "statement": statement_json,
            "content_hash": digest,
            "credits_due": statement.credits_due,
            "bonuses": statement.bonuses,
            "net": statement.net,
            "adjustments": statement.adjustments,
            "payable": statement.payable,
        }
        if existing is None:
            settlement = Settlement.objects.create(engagement=locked, period=month.label, **fields)
            action = "settlement.draft"
        else:
            settlement = existing
            if settlement.content_hash != digest:
                fields |= {
                    "client_approved_by": None,
                    "client_approved_at": None,
                    "provider_approved_by": None,
                    "provider_approved_at": None,
                }
            for name, value in fields.items():
                setattr(settlement, name, value)
            settlement.save()
            action = "settlement.recompute"
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action=action,
            obj=settlement,
            engagement_id=locked.pk,
            after={"period": month.label, "content_hash": digest, **_totals(statement_json)},
        )
    return settlement


@dataclass(frozen=True)
class Followups:
    """What a final settlement asks of governance: actions for critical misses, wins for bonuses.

    ``settlement_approve`` opens the actions (``settlement_actions_open``) in its transaction; the
    wins wait for governance's wins feed and are only recorded in the final audit event.
    """

    actions: tuple[dict[str, Any], ...]
    wins: tuple[dict[str, Any], ...]


def settlement_followups(*, settlement: Settlement) -> Followups:
    statement = settlement.statement
    wins = tuple(
        {"rule": x["rule"], "kpi": x["kpi"], "period": settlement.period, "amount": x["amount"]}
        for x in statement["lines"]
        if x["kind"] == "bonus" and Decimal(x["amount"]) > 0
    )
    return Followups(actions=tuple(statement.get("actions", [])), wins=wins)


def _critical_action_owner(settlement: Settlement) -> Membership:
    """The provider's approver of the settlement, else the provider's first administrator or manager by id.

    The approver is a provider administrator or manager (incentives policy) who accepted the miss
    with the numbers; the fallback covers one whose membership has since ended. Both are stable,
    so a repeated run picks the same person.
    """
    managers = Membership.objects.filter(
        organisation_id=settlement.engagement.provider_id, role__in=[Role.ADMIN, Role.MANAGER]
    ).select_related("user", "organisation")
    approver = settlement.provider_approved_by_id
    owner = (managers.filter(user_id=approver).first() if approver else None) or managers.order_by("pk").first()
    if owner is None:
        raise PactboardError(
            f"{settlement.engagement.provider} has no administrator or manager to own the actions"
            f" of {settlement.period}'s critical misses: add one, then approve.",
            kind="conflict",
        )
    return owner


def settlement_actions_open(*, actor: Membership, settlement: Settlement, now: datetime) -> list[int]:
    """Open one governance action per critical miss of a final settlement; return the ids of those opened now.

    Keyed ``settlement:<id>:rule:<rule>`` in governance, so running it again (a retried approval,
    a re-run) opens nothing new. Called inside ``settlement_approve``'s transaction: a settlement
    is final together with its actions, or neither is.
    """
    if not settlement.is_final or settlement.finalised_at is None:
        raise PactboardError(f"{settlement.period} is not final yet: its actions open when both parties approve.")
    followups = settlement_followups(settlement=settlement)
    if not followups.actions:
        return []
    engagement = settlement.engagement
    owner = _critical_action_owner(settlement)
    finalised_day = settlement.finalised_at.astimezone(zone(engagement.time_zone)).date()
    due = finalised_day + timedelta(days=CRITICAL_ACTION_DUE_DAYS)
    names = engagement_kpi_names(engagement=engagement)
    opened = []
    for request in followups.actions:
        kpi = request["kpi"]
        what = f"{names.get(kpi, kpi)} ({kpi})" if kpi else request["rule"]
        reason = request["reason"].removeprefix("critical service level missed: ")
        title = f"Critical service level missed: {what}, {request['period']}, rule {request['rule']}: {reason}"
        action, created = action_open_for_cause(
            actor=actor,
            engagement=engagement,
            cause_key=f"settlement:{settlement.pk}:rule:{request['rule']}",
            title=title,
            body=f"The settlement of {request['period']} in {engagement.name} became final with a critical miss"
            f" ({reason}). Say what will restore the service level, due {due:%-d %b %Y}.",
            owner=owner,
            due_date=due,
            now=now,
            kpi_code=kpi,
        )
        if created:
            opened.append(action.pk)
    return opened


def settlement_approve(*, actor: Membership, settlement: Settlement) -> Settlement:
    """Approve a draft for the actor's side; with both sides' approvals the settlement is final.

    The draft is recomputed first: if the values changed since it was drafted, the approval is
    refused (recompute the draft, then approve the new numbers).
    """
    with transaction.atomic():
        locked = for_update(Settlement.objects.all()).select_related("engagement").get(pk=settlement.pk)
        policy.settlement_require(actor=actor, settlement=locked, action="approve")
        month = month_parse(locked.period)
        inputs = settlement_inputs(engagement=locked.engagement, period=month, exclude_id=locked.pk)
        statement_json = statement_to_json(settlement_recompute(inputs=inputs))
        inputs_json = inputs_to_json(
            figures=inputs.figures, before=inputs.before, after=inputs.after, corrections=inputs.corrections
        )
        digest = settlement_hash(
            period=locked.period, version_id=inputs.version.pk, inputs=inputs_json, statement=statement_json
        )
        if digest != locked.content_hash:
            raise PactboardError(
                f"The figures of {locked.period} changed since this draft was computed: recompute it, then approve.",
                kind="conflict",
            )
        now = timezone.now()
        side = policy.actor_side(actor=actor, engagement=locked.engagement)
        if side == "client":
            locked.client_approved_by, locked.client_approved_at = actor.user, now
        else:
            locked.provider_approved_by, locked.provider_approved_at = actor.user, now
        final = locked.client_approved_at is not None and locked.provider_approved_at is not None
        if final:
            locked.status = Settlement.Status.FINAL
            locked.finalised_at = now
        locked.save()
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="settlement.approve",
            obj=locked,
            engagement_id=locked.engagement_id,
            after={"period": locked.period, "side": side, "content_hash": locked.content_hash, "final": final},
        )
        if final:
            followups = settlement_followups(settlement=locked)
            opened = settlement_actions_open(actor=actor, settlement=locked, now=now)
            audit_record(
                actor=actor.user,
                organisation=actor.organisation,
                action="settlement.final",
                obj=locked,
                engagement_id=locked.engagement_id,
                after={
                    "period": locked.period,
                    **_totals(locked.statement),
                    "actions": list(followups.actions),
                    "action_ids": opened,
                    "wins": list(followups.wins),
                },
            )
    return locked
