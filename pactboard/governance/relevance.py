"""KPI relevance reviews (F11): every N months, is each KPI in force still worth measuring?

A review lists every active KPI of the version in force with its evidence (``KpiEvidence``), the
client's managers choose keep, adjust (new target and/or thresholds) or retire with a reason, and
either party comments on each KPI. Closing the review freezes the evidence and opens a *draft*
version of the agreement holding exactly the adjustments and retirements, effective from the start
of the next period; it binds nobody until both parties propose and sign it in the agreement
workflow (pactboard.kpis). docs/governance.md, "Relevance reviews".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from pactboard.accounts.models import Membership, Role
from pactboard.audit.services import audit_record
from pactboard.core.errors import ErrorDetail, PactboardError, invalid
from pactboard.core.locks import for_update
from pactboard.core.periods import local_date
from pactboard.engagements.models import Engagement
from pactboard.governance import policy
from pactboard.governance.models import RelevanceComment, RelevanceItem, RelevanceReview, RelevanceSettings
from pactboard.governance.notify import notify
from pactboard.governance.relevance_evidence import _evidence_compute
from pactboard.kpis import services as kpi_services
from pactboard.kpis.models import AgreementVersion
from pactboard.kpis.selectors import version_in_force, version_kpis, version_next_period_start
from pactboard.scoring import thresholds_check

Decision = RelevanceItem.Decision
_THRESHOLD_FIELDS = {"target": "new_target", "thresholds.amber": "new_amber", "thresholds.stretch": "new_stretch"}


from pactboard.governance.relevance_rules import (  # noqa: E402 - the pure half, re-exported
    EVERY_MONTHS,
    KpiEvidence,
    kpi_evidence,
    months_after,
    relevance_due_on,
)
from pactboard.governance.relevance_selectors import (  # noqa: E402 - the reads, re-exported
    relevance_every_months,
    relevance_item_get,
    relevance_items,
    relevance_review_get,
    relevance_review_list,
)

# --- writes --------------------------------------------------------------------------------------


def _audit(actor: Membership | None, action: str, review: RelevanceReview, **extra: Any) -> None:
    audit_record(
        actor=actor.user if actor is not None else None,
        organisation=actor.organisation if actor is not None else None,
        action=action,
        obj=review,
        engagement_id=review.engagement_id,
        **extra,
    )


def relevance_settings_set(*, actor: Membership, engagement: Engagement, every_months: int) -> RelevanceSettings:
    """Set how many months pass between two relevance reviews (managers of either party)."""
    policy.relevance_require(actor=actor, engagement=engagement, action="open")
    if not 1 <= every_months <= 60:
        raise invalid("Choose between 1 and 60 months.", location="every_months", code="out_of_range")
    with transaction.atomic():
        row, _ = for_update(RelevanceSettings.objects.all()).get_or_create(engagement=engagement)
        before = row.every_months
        row.every_months = every_months
        row.save()
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="relevance.settings",
            obj=row,
            engagement_id=engagement.pk,
            before={"every_months": before},
            after={"every_months": every_months},
        )
    return row


def relevance_review_insert(
    *,
    engagement: Engagement,
    due_on: date,
    version: AgreementVersion,
    actor: Membership | None,
    now: datetime | None = None,
) -> RelevanceReview | None:
    """Insert the review and its KPIs and tell both parties' managers; None when another run (or worker)
    got there first (the unique keys)."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            review = RelevanceReview.objects.create(
                engagement=engagement,
                due_on=due_on,
                based_on=version,
                opened_by=actor.user if actor is not None else None,
                opened_by_org=actor.organisation if actor is not None else None,
            )
            kpis = [k for k in version_kpis(version=version) if k.active]
            RelevanceItem.objects.bulk_create(
                [
                    RelevanceItem(
                        review=review,
                        position=n,
                        kpi_code=k.code,
                        kpi_name=k.name,
                        unit=k.unit,
                        direction=k.direction,
                        period_kind=k.period,
                        target=k.target,
                        amber=k.amber,
                        stretch=k.stretch,
                    )
                    for n, k in enumerate(kpis)
                ]
            )
            _audit(
                actor,
                "relevance.open",
                review,
                after={"due_on": due_on, "version": version.number, "kpis": [k.code for k in kpis]},
            )
            notify(
                recipients=Membership.objects.filter(
                    organisation_id__in=[engagement.client_id, engagement.provider_id],
                    role__in=[Role.ADMIN, Role.MANAGER],
                ).select_related("user"),
                kind="relevance.opened",
                cause_key=f"relevance:{review.pk}",
                title=f"{engagement.name}: KPI relevance review opened ({len(kpis)} KPIs to keep, adjust or retire)",
                body="The client's managers decide on each KPI from its evidence; either party can comment.",
                url=reverse("governance:relevance_review", args=[engagement.pk, review.pk]),
                engagement_id=engagement.pk,
                now=now,
                skip=actor,
            )
    except IntegrityError:
        return None
    return review


def relevance_review_open(*, actor: Membership, engagement: Engagement, now: datetime) -> tuple[RelevanceReview, bool]:
    """Open a relevance review now (on demand); the open one, if there is one, is returned instead.

    Returns the review and whether it was created now.
    """
    policy.relevance_require(actor=actor, engagement=engagement, action="open")
    today = local_date(now, engagement.time_zone)
    existing = RelevanceReview.objects.filter(engagement=engagement, status=RelevanceReview.Status.OPEN).first()
    if existing is not None:
        return existing, False
    if RelevanceReview.objects.filter(engagement=engagement, due_on=today).exists():
        raise PactboardError(
            f"A relevance review of {today:%d %b %Y} is already closed: open the next one from tomorrow.",
            kind="conflict",
        )
    version = version_in_force(engagement=engagement, on=today)
    if version is None:
        raise PactboardError("No agreed KPI set is in force yet: there is nothing to review.", kind="conflict")
    review = relevance_review_insert(engagement=engagement, due_on=today, version=version, actor=actor, now=now)
    if review is None:  # another request opened one meanwhile
        raced = RelevanceReview.objects.filter(engagement=engagement, status=RelevanceReview.Status.OPEN).first()
        if raced is None:
            raise PactboardError(
                "A relevance review was opened and closed meanwhile: reload the page.", kind="conflict"
            )
        return raced, False
    return review, True


def relevance_reviews_open_due(*, now: datetime) -> list[RelevanceReview]:
    """Open the relevance reviews that are due (the daily schedule): safe to run twice, or on two workers.

    An active engagement is due when the cadence day (its start plus a multiple of N months, counted
    again from the last review's day) has come, it has no open review and an agreement is in force.
    """
    every = dict(RelevanceSettings.objects.values_list("engagement_id", "every_months"))
    last = dict(
        RelevanceReview.objects.values("engagement_id").annotate(d=Max("due_on")).values_list("engagement_id", "d")
    )
    busy = set(
        RelevanceReview.objects.filter(status=RelevanceReview.Status.OPEN).values_list("engagement_id", flat=True)
    )
    opened: list[RelevanceReview] = []
    for engagement in Engagement.objects.filter(status=Engagement.Status.ACTIVE).exclude(pk__in=busy).order_by("pk"):
        today = local_date(now, engagement.time_zone)
        if today > engagement.end_date:
            continue
        due = relevance_due_on(
            start=last.get(engagement.pk) or engagement.start_date,
            every_months=every.get(engagement.pk, EVERY_MONTHS),
            today=today,
        )
        if due is None:
            continue
        version = version_in_force(engagement=engagement, on=today)
        if version is None:
            continue
        review = relevance_review_insert(engagement=engagement, due_on=due, version=version, actor=None, now=now)
        if review is not None:
            opened.append(review)
    return opened


def _level(value: Decimal | None, location: str) -> Decimal | None:
    if value is not None and not value.is_finite():
        raise invalid("Enter a finite number.", location=location, code="not_finite")
    return value


def relevance_item_decide(
    *,
    actor: Membership,
    item: RelevanceItem,
    decision: str,
    reason: str = "",
    new_target: Decimal | None = None,
    new_amber: Decimal | None = None,
    new_stretch: Decimal | None = None,
    now: datetime,
) -> RelevanceItem:
    """The client's choice for one KPI: keep, adjust (new target and/or thresholds) or retire, with a reason."""
    review = item.review
    engagement = review.engagement
    policy.relevance_require(actor=actor, engagement=engagement, action="decide", is_open=review.is_open)
    reason = reason.strip()
    errors: list[ErrorDetail] = []
    if decision not in Decision.values:
        raise invalid("Choose keep, adjust or retire.", location="decision", code="invalid_choice")
    if decision in (Decision.ADJUST, Decision.RETIRE) and not reason:
        errors.append(ErrorDetail(f"Say why you {decision} this KPI.", "reason", "required"))
    levels = {
        "new_target": _level(new_target, "new_target"),
        "new_amber": _level(new_amber, "new_amber"),
        "new_stretch": _level(new_stretch, "new_stretch"),
    }
    if decision != Decision.ADJUST:
        levels = dict.fromkeys(levels)
    else:
        target = levels["new_target"] if levels["new_target"] is not None else item.target
        amber = levels["new_amber"] if levels["new_amber"] is not None else item.amber
        stretch = levels["new_stretch"] if levels["new_stretch"] is not None else item.stretch
        if (target, amber, stretch) == (item.target, item.amber, item.stretch):
            errors.append(
                ErrorDetail(
                    "Enter a new target, amber or stretch level that differs from today's (or choose keep).",
                    "new_target",
                    "no_change",
                )
            )
        for problem in thresholds_check(
            direction=item.direction,  # type: ignore[arg-type]
            target=target,
            amber=amber,
            stretch=stretch,
        ):
            errors.append(
                ErrorDetail(
                    problem.message,
                    _THRESHOLD_FIELDS.get(problem.location or "", "new_target"),
                    problem.code or "invalid",
                )
            )
    if errors:
        raise PactboardError(f"The decision on {item.kpi_name} could not be saved.", errors)
    with transaction.atomic():
        locked_review = for_update(RelevanceReview.objects.all()).get(pk=review.pk)
        policy.relevance_require(actor=actor, engagement=engagement, action="decide", is_open=locked_review.is_open)
        locked = for_update(RelevanceItem.objects.all()).get(pk=item.pk)
        before = _item_audit(locked)
        locked.decision = decision
        locked.reason = reason
        locked.new_target, locked.new_amber, locked.new_stretch = (
            levels["new_target"],
            levels["new_amber"],
            levels["new_stretch"],
        )
        locked.decided_by = actor.user
        locked.decided_at = now
        locked.save()
        _audit(actor, "relevance.decide", review, before=before, after=_item_audit(locked))
    locked.review = review
    return locked


def _item_audit(item: RelevanceItem) -> dict[str, Any]:
    return {
        "kpi_code": item.kpi_code,
        "decision": item.decision,
        "reason": item.reason,
        "new_target": item.new_target,
        "new_amber": item.new_amber,
        "new_stretch": item.new_stretch,
    }


def relevance_comment_add(*, actor: Membership, item: RelevanceItem, body: str) -> RelevanceComment:
    """A remark on one KPI of an open review, by a contributor of either party."""
    review = item.review
    if not body.strip():
        raise invalid("Write something.", location="body", code="required")
    with transaction.atomic():
        locked_review = for_update(RelevanceReview.objects.all()).get(pk=review.pk)
        policy.relevance_require(
            actor=actor, engagement=review.engagement, action="comment", is_open=locked_review.is_open
        )
        comment = RelevanceComment.objects.create(
            item=item, author=actor.user, organisation=actor.organisation, body=body.strip()
        )
        _audit(actor, "relevance.comment", review, after={"kpi_code": item.kpi_code, "body": comment.body})
    return comment


@dataclass
class _Changes:
    adjust: list[RelevanceItem] = field(default_factory=list)
    retire: list[RelevanceItem] = field(default_factory=list)


def _draft_note(review: RelevanceReview, changes: _Changes) -> str:
    lines = [f"From the relevance review due {review.due_on:%d %b %Y}:"]
    lines += [f"- adjust {i.kpi_code}: {i.reason}" for i in changes.adjust]
    lines += [f"- retire {i.kpi_code}: {i.reason}" for i in changes.retire]
    return "\n".join(lines)


def relevance_review_close(*, actor: Membership, review: RelevanceReview, now: datetime) -> RelevanceReview:
    """Freeze the evidence and open a draft agreement version holding exactly the review's changes.

    Each adjusted KPI gets its new levels and each retired KPI leaves the set (its history stays with
    the versions that held it); the draft starts from the newest agreed version and takes effect from
    the start of the next period. Nothing binds until both parties sign it. Every KPI kept: no draft.
    """
    engagement = review.engagement
    with transaction.atomic():
        locked = for_update(RelevanceReview.objects.all()).get(pk=review.pk)
        policy.relevance_require(actor=actor, engagement=engagement, action="close", is_open=locked.is_open)
        locked.engagement = engagement
        locked.based_on = review.based_on
        items = list(locked.items.order_by("position", "id"))
        undecided = [i for i in items if not i.decision]
        if undecided:
            raise PactboardError(
                "Decide on every KPI before closing the review.",
                [
                    ErrorDetail(f"{i.kpi_name}: choose keep, adjust or retire.", f"items.{i.kpi_code}", "required")
                    for i in undecided
                ],
            )
        changes = _Changes(
            adjust=[i for i in items if i.decision == Decision.ADJUST],
            retire=[i for i in items if i.decision == Decision.RETIRE],
        )
        if items and len(changes.retire) == len(items):
            raise PactboardError(
                "Retiring every KPI would leave the agreement empty: keep or adjust at least one.", kind="conflict"
            )
        evidence = _evidence_compute(review=locked, codes=[i.kpi_code for i in items], now=now)
        for item in items:
            item.evidence = evidence[item.kpi_code].as_json()
        RelevanceItem.objects.bulk_update(items, ["evidence"])
        draft = (
            _draft_create(actor=actor, review=locked, changes=changes, now=now)
            if (changes.adjust or changes.retire)
            else None
        )
        locked.status = RelevanceReview.Status.CLOSED
        locked.closed_at = now
        locked.closed_by = actor.user
        locked.draft = draft
        locked.save()
        _audit(
            actor,
            "relevance.close",
            locked,
            after={
                "kept": [i.kpi_code for i in items if i.decision == Decision.KEEP],
                "adjusted": [i.kpi_code for i in changes.adjust],
                "retired": [i.kpi_code for i in changes.retire],
                "draft": draft.number if draft is not None else None,
            },
        )
    return locked


def _draft_create(*, actor: Membership, review: RelevanceReview, changes: _Changes, now: datetime) -> AgreementVersion:
    draft = kpi_services.version_draft_start(
        actor=actor, engagement=review.engagement, note=_draft_note(review, changes)
    )
    kpis = {k.code: k for k in draft.kpis.all()}
    missing = [i for i in [*changes.adjust, *changes.retire] if i.kpi_code not in kpis]
    if missing:
        raise PactboardError(
            "The newest agreed version no longer holds "
            + ", ".join(i.kpi_name for i in missing)
            + ": open a new relevance review on the agreement in force.",
            kind="conflict",
        )
    for item in changes.adjust:
        fields: dict[str, Any] = {
            name: value
            for name, value in (
                ("target", item.new_target),
                ("amber", item.new_amber),
                ("stretch", item.new_stretch),
            )
            if value is not None
        }
        kpi_services.version_kpi_update(actor=actor, kpi=kpis[item.kpi_code], **fields)
    for item in changes.retire:
        kpi_services.version_kpi_remove(actor=actor, kpi=kpis[item.kpi_code])
    draft.refresh_from_db()
    draft.effective_from = version_next_period_start(version=draft, now=now)
    draft.save(update_fields=["effective_from", "updated_at"])
    return draft


__all__ = [
    "EVERY_MONTHS",
    "KpiEvidence",
    "kpi_evidence",
    "months_after",
    "relevance_comment_add",
    "relevance_due_on",
    "relevance_every_months",
    "relevance_item_decide",
    "relevance_item_get",
    "relevance_items",
    "relevance_review_close",
    "relevance_review_get",
    "relevance_review_list",
    "relevance_review_open",
    "relevance_reviews_open_due",
    "relevance_settings_set",
]
