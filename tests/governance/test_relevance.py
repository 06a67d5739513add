"""KPI relevance reviews (F11): evidence, the schedule, the client's decisions, and the draft that closing creates.

Acme support (tests.conftest.World) starts 2026-01-01, Europe/Berlin. ``agree_kpis`` signs monthly
percentage KPIs from the start: kpi_00 and kpi_02 higher-is-better (target 80, amber 75, stretch 90),
kpi_01 lower-is-better (target 20, amber 25, stretch 15). docs/governance.md, "Relevance reviews".
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from pactboard.audit.models import AuditEvent
from pactboard.core.errors import PactboardError
from pactboard.core.periods import Period
from pactboard.governance import relevance
from pactboard.governance.alert_rules import PeriodResult
from pactboard.governance.models import Notification, RelevanceItem, RelevanceReview, RelevanceSettings
from pactboard.governance.relevance_evidence import relevance_evidence
from pactboard.kpis import negotiation as kpi_negotiation
from pactboard.kpis import services as kpi_services
from pactboard.kpis.content import FieldChange
from pactboard.kpis.models import AgreementVersion
from pactboard.kpis.selectors import version_diff, version_in_force
from pactboard.measurements import services as measurement_services
from tests.conftest import World
from tests.dashboards.conftest import agree_kpis

# 10 July 2026, 11:00 in Berlin: January to June are closed (six monthly periods in force).
NOW = datetime(2026, 7, 10, 9, 0, tzinfo=UTC)


def _push(world: World, code: str, values: dict[str, str]) -> None:
    measurement_services.values_push(
        actor=world.provider_manager,
        engagement=world.engagement,
        rows=[
            measurement_services.ValueRow(kpi_code=code, period=Period.parse(label), value=Decimal(v))
            for label, v in values.items()
        ],
    )


@pytest.fixture
def agreed3(world: World) -> AgreementVersion:
    return agree_kpis(world, world.engagement, 3)


def _open(world: World, now: datetime = NOW) -> RelevanceReview:
    review, created = relevance.relevance_review_open(actor=world.client_manager, engagement=world.engagement, now=now)
    assert created
    return review


def _item(review: RelevanceReview, code: str) -> RelevanceItem:
    item = review.items.get(kpi_code=code)
    item.review = review
    return item


# --- evidence ------------------------------------------------------------------------------------


def test_evidence_of_a_hand_worked_history(world: World, agreed3):
    # kpi_00 (higher; target 80, amber 75, stretch 90), January to June, May without a value:
    #   Jan 92 exceeded (>= 90) · Feb 85 met (>= 80) · Mar 77 at risk (>= 75) · Apr 70 missed · Jun 81 met
    # periods in force 6, measured 5, completeness 5/6 = 0.8333.
    # mean = (92+85+77+70+81)/5 = 405/5 = 81; deviations 11, 4, -4, -11, 0; squares 121+16+16+121+0 = 274;
    # sample variance 274/(5-1) = 68.5; spread = sqrt(68.5) = 8.27647... -> 8.2765.
    _push(world, "kpi_00", {"2026-01": "92", "2026-02": "85", "2026-03": "77", "2026-04": "70", "2026-06": "81"})
    review = _open(world)
    items = relevance.relevance_items(review=review)
    evidence = relevance_evidence(review=review, items=items, now=NOW)
    ev = evidence["kpi_00"]
    assert (ev.periods_in_force, ev.periods_measured) == (6, 5)
    assert (ev.exceeded, ev.met, ev.at_risk, ev.missed) == (1, 2, 1, 1)
    assert ev.mean == Decimal("81")
    assert ev.spread == Decimal("8.2765")
    assert (ev.minimum, ev.maximum) == (Decimal(70), Decimal(92))
    assert ev.completeness == Decimal("0.8333")
    assert (ev.first_period, ev.last_period) == ("2026-01", "2026-06")
    assert ev.live_objective
    assert ev.live_objectives == (f"goal-{world.engagement.pk}",)
    # kpi_01 was never measured: six periods in force, none measured, no spread.
    none = evidence["kpi_01"]
    assert (none.periods_in_force, none.periods_measured, none.completeness, none.spread) == (6, 0, Decimal(0), None)


def test_an_objective_past_its_deadline_is_not_live(world: World, agreed3):
    objective = agreed3.kpis.get(code="kpi_00").objective_links.get().objective
    objective.deadline = date(2026, 6, 30)  # before 10 July
    objective.save()
    review = _open(world)
    ev = relevance_evidence(review=review, items=relevance.relevance_items(review=review), now=NOW)["kpi_00"]
    assert not ev.live_objective
    assert ev.ended_objectives == (objective.key,)


def test_spread_needs_two_values_and_counts_each_period_once():
    # One value: no standard deviation; a period exactly on stretch is exceeded, not also met.
    one = relevance.kpi_evidence(
        history=[
            PeriodResult(label="2026-01", closes_on=date(2026, 2, 1), value=Decimal(90), status="exceeded"),
            PeriodResult(label="2026-02", closes_on=date(2026, 3, 1), value=None, status="no_data"),
        ]
    )
    assert (one.exceeded, one.met, one.spread, one.completeness) == (1, 0, None, Decimal("0.5"))
    assert relevance.KpiEvidence.from_json(one.as_json()) == one


# --- the schedule ---------------------------------------------------------------------------------


def test_due_days_count_months_from_the_start_or_the_last_review():
    assert relevance.relevance_due_on(start=date(2026, 1, 1), every_months=6, today=date(2026, 6, 30)) is None
    assert relevance.relevance_due_on(start=date(2026, 1, 1), every_months=6, today=date(2026, 7, 1)) == date(
        2026, 7, 1
    )
    # Two cadence days have passed: the latest one is due (one review, not a backlog).
    assert relevance.relevance_due_on(start=date(2026, 1, 1), every_months=6, today=date(2027, 2, 1)) == date(
        2027, 1, 1
    )
    # 31 August + 6 months is the last day of February.
    assert relevance.months_after(date(2026, 8, 31), 6) == date(2027, 2, 28)


def test_the_schedule_opens_a_review_once_when_it_is_due(world: World, agreed3):
    before = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
    assert relevance.relevance_reviews_open_due(now=before) == []
    due = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)  # 10:00 in Berlin, six months after 1 January
    opened = relevance.relevance_reviews_open_due(now=due)
    assert [(r.engagement_id, r.due_on) for r in opened] == [(world.engagement.pk, date(2026, 7, 1))]
    assert relevance.relevance_reviews_open_due(now=due) == []  # run twice: nothing new
    review = opened[0]
    assert review.opened_by is None
    assert review.based_on == agreed3
    assert list(review.items.values_list("kpi_code", flat=True)) == ["kpi_00", "kpi_01", "kpi_02"]
    assert AuditEvent.objects.filter(action="relevance.open", engagement_id=world.engagement.pk).count() == 1
    # Both parties' managers are told once (the client viewer is not: viewers do not decide).
    told = Notification.objects.filter(kind="relevance.opened", cause_key=f"relevance:{review.pk}")
    assert sorted(told.values_list("recipient__user__email", flat=True)) == [
        world.client_manager.user.email,
        world.provider_manager.user.email,
    ]
    # The other engagement has no agreement in force: nothing to review there.
    assert not RelevanceReview.objects.filter(engagement=world.other_engagement).exists()


def test_a_second_worker_loses_on_the_unique_key(world: World, agreed3):
    # Two workers that both saw "due, nothing open" race to insert: the database lets one win.
    first = relevance.relevance_review_insert(
        engagement=world.engagement, due_on=date(2026, 7, 1), version=agreed3, actor=None
    )
    second = relevance.relevance_review_insert(
        engagement=world.engagement, due_on=date(2026, 7, 1), version=agreed3, actor=None
    )
    assert first is not None
    assert second is None
    # Another due day while one is still open is refused too: at most one open review.
    with pytest.raises(IntegrityError), transaction.atomic():
        RelevanceReview.objects.create(engagement=world.engagement, due_on=date(2026, 7, 2), based_on=agreed3)
    assert RelevanceReview.objects.filter(engagement=world.engagement).count() == 1


def test_the_cadence_is_a_setting_and_restarts_after_each_review(world: World, agreed3):
    relevance.relevance_settings_set(actor=world.provider_manager, engagement=world.engagement, every_months=3)
    assert RelevanceSettings.objects.get(engagement=world.engagement).every_months == 3
    [review] = relevance.relevance_reviews_open_due(now=datetime(2026, 4, 1, 8, 0, tzinfo=UTC))
    assert review.due_on == date(2026, 4, 1)
    for item in relevance.relevance_items(review=review):
        relevance.relevance_item_decide(actor=world.client_manager, item=item, decision="keep", now=NOW)
    relevance.relevance_review_close(actor=world.client_manager, review=review, now=NOW)
    assert relevance.relevance_reviews_open_due(now=datetime(2026, 6, 30, 12, 0, tzinfo=UTC)) == []
    [following] = relevance.relevance_reviews_open_due(now=datetime(2026, 7, 1, 8, 0, tzinfo=UTC))
    assert following.due_on == date(2026, 7, 1)
    with pytest.raises(PactboardError, match="between 1 and 60"):
        relevance.relevance_settings_set(actor=world.client_manager, engagement=world.engagement, every_months=0)


def test_opening_on_demand_returns_the_open_review(world: World, agreed3):
    review = _open(world)
    again, created = relevance.relevance_review_open(actor=world.provider_manager, engagement=world.engagement, now=NOW)
    assert (again.pk, created) == (review.pk, False)
    # The manager who opened it is not told about it; the other party's manager is.
    told = Notification.objects.filter(kind="relevance.opened").values_list("recipient", flat=True)
    assert list(told) == [world.provider_manager.pk]
    with pytest.raises(PactboardError) as refused:
        relevance.relevance_review_open(actor=world.client_viewer, engagement=world.engagement, now=NOW)
    assert refused.value.kind == "forbidden"
    with pytest.raises(PactboardError) as hidden:
        relevance.relevance_review_open(actor=world.outsider, engagement=world.engagement, now=NOW)
    assert hidden.value.kind == "not_found"


def test_no_agreement_in_force_is_nothing_to_review(world: World):
    with pytest.raises(PactboardError, match="nothing to review"):
        relevance.relevance_review_open(actor=world.client_manager, engagement=world.engagement, now=NOW)


# --- decisions and comments -----------------------------------------------------------------------


def test_only_client_managers_decide_and_adjust_and_retire_need_a_reason(world: World, agreed3):
    review = _open(world)
    item = _item(review, "kpi_00")
    with pytest.raises(PactboardError) as refused:
        relevance.relevance_item_decide(actor=world.provider_manager, item=item, decision="keep", now=NOW)
    assert refused.value.kind == "forbidden"
    with pytest.raises(PactboardError) as no_reason:
        relevance.relevance_item_decide(
            actor=world.client_manager, item=item, decision="adjust", new_target=Decimal(85), now=NOW
        )
    assert [(d.location, d.code) for d in no_reason.value.details] == [("reason", "required")]
    with pytest.raises(PactboardError) as same:
        relevance.relevance_item_decide(actor=world.client_manager, item=item, decision="adjust", reason="x", now=NOW)
    assert [d.code for d in same.value.details] == ["no_change"]
    # Amber 85 is not below the target of 80 for a higher-is-better KPI (docs/scoring.md).
    with pytest.raises(PactboardError) as order:
        relevance.relevance_item_decide(
            actor=world.client_manager, item=item, decision="adjust", new_amber=Decimal(85), reason="x", now=NOW
        )
    # thresholds_check's own code, placed at the review's field.
    assert [(d.location, d.code) for d in order.value.details] == [("new_amber", "amber_not_worse_than_target")]
    with pytest.raises(PactboardError) as retire:
        relevance.relevance_item_decide(actor=world.client_manager, item=item, decision="retire", now=NOW)
    assert [d.location for d in retire.value.details] == ["reason"]
    decided = relevance.relevance_item_decide(
        actor=world.client_manager, item=item, decision="keep", new_target=Decimal(99), now=NOW
    )
    assert (decided.decision, decided.new_target) == ("keep", None)  # keep carries no new levels
    assert AuditEvent.objects.filter(action="relevance.decide").count() == 1


def test_either_party_comments_viewers_read(world: World, agreed3):
    review = _open(world)
    item = _item(review, "kpi_01")
    relevance.relevance_comment_add(actor=world.provider_manager, item=item, body="We can hit 18 with the new tool.")
    relevance.relevance_comment_add(actor=world.client_manager, item=item, body="Show us two months first.")
    with pytest.raises(PactboardError) as viewer:
        relevance.relevance_comment_add(actor=world.client_viewer, item=item, body="Me too")
    assert viewer.value.kind == "forbidden"
    [row] = [i for i in relevance.relevance_items(review=review) if i.kpi_code == "kpi_01"]
    assert [c.organisation for c in row.comments.all()] == [world.provider_org, world.client_org]


# --- closing --------------------------------------------------------------------------------------


def _decide_must_show(world: World, review: RelevanceReview) -> None:
    relevance.relevance_item_decide(
        actor=world.client_manager,
        item=_item(review, "kpi_00"),
        decision="adjust",
        new_target=Decimal(85),
        reason="Met or exceeded three periods of four: raise the bar.",
        now=NOW,
    )
    relevance.relevance_item_decide(
        actor=world.client_manager,
        item=_item(review, "kpi_01"),
        decision="retire",
        reason="Nobody acts on it any more.",
        now=NOW,
    )
    relevance.relevance_item_decide(actor=world.client_manager, item=_item(review, "kpi_02"), decision="keep", now=NOW)


def test_must_show_adjust_one_retire_one_ends_as_a_proposal_with_exactly_those_changes(world: World, agreed3):
    review = _open(world)
    _decide_must_show(world, review)
    closed = relevance.relevance_review_close(actor=world.client_manager, review=review, now=NOW)
    draft = closed.draft
    assert draft is not None
    assert draft.status == AgreementVersion.Status.DRAFT
    assert draft.based_on == agreed3
    # The next period after 10 July 2026 (monthly KPIs) starts on 1 August.
    assert draft.effective_from == date(2026, 8, 1)

    proposed = kpi_negotiation.version_propose(actor=world.client_manager, version=draft, now=NOW)
    assert proposed.status == AgreementVersion.Status.PROPOSED
    assert proposed.effective_from == date(2026, 8, 1)
    diff = version_diff(before=agreed3, after=proposed)
    assert diff.added == ()
    assert diff.removed == ("kpi_01",)
    assert [(c.code, c.changes) for c in diff.changed] == [("kpi_00", (FieldChange("target", "80", "85"),))]
    # The only other difference is the version's own date, which every new version has: from 1 August.
    assert diff.settings == (FieldChange("effective_from", "2026-01-01", "2026-08-01"),)

    # Nothing binds until both sign.
    assert version_in_force(engagement=world.engagement, on=date(2026, 8, 1)) == agreed3
    kpi_negotiation.version_sign(actor=world.client_manager, version=proposed)
    kpi_negotiation.version_sign(actor=world.provider_manager, version=proposed)
    assert version_in_force(engagement=world.engagement, on=date(2026, 8, 1)) == proposed
    assert version_in_force(engagement=world.engagement, on=date(2026, 7, 31)) == agreed3


def test_closing_freezes_the_evidence_and_is_audited(world: World, agreed3):
    _push(world, "kpi_00", {"2026-01": "92", "2026-02": "85"})
    review = _open(world)
    _decide_must_show(world, review)
    relevance.relevance_review_close(actor=world.client_manager, review=review, now=NOW)
    review = RelevanceReview.objects.get(pk=review.pk)
    # A value recorded after closing does not change what the closed review shows.
    _push(world, "kpi_00", {"2026-03": "50"})
    items = relevance.relevance_items(review=review)
    ev = relevance_evidence(review=review, items=items, now=NOW)["kpi_00"]
    assert (ev.periods_measured, ev.exceeded, ev.met, ev.missed) == (2, 1, 1, 0)
    event = AuditEvent.objects.get(action="relevance.close")
    assert event.after["adjusted"] == ["kpi_00"]
    assert event.after["retired"] == ["kpi_01"]
    assert event.after["kept"] == ["kpi_02"]
    with pytest.raises(PactboardError) as closed:
        relevance.relevance_item_decide(
            actor=world.client_manager, item=_item(review, "kpi_02"), decision="keep", now=NOW
        )
    assert closed.value.kind == "conflict"


def test_closing_needs_every_kpi_decided_and_no_open_draft(world: World, agreed3):
    review = _open(world)
    relevance.relevance_item_decide(actor=world.client_manager, item=_item(review, "kpi_00"), decision="keep", now=NOW)
    with pytest.raises(PactboardError) as undecided:
        relevance.relevance_review_close(actor=world.client_manager, review=review, now=NOW)
    assert [(d.location, d.code) for d in undecided.value.details] == [
        ("items.kpi_01", "required"),
        ("items.kpi_02", "required"),
    ]
    _decide_must_show(world, review)
    with pytest.raises(PactboardError) as provider:
        relevance.relevance_review_close(actor=world.provider_manager, review=review, now=NOW)
    assert provider.value.kind == "forbidden"
    kpi_services.version_draft_start(actor=world.provider_manager, engagement=world.engagement)
    with pytest.raises(PactboardError, match="open draft"):
        relevance.relevance_review_close(actor=world.client_manager, review=review, now=NOW)
    assert RelevanceReview.objects.get(pk=review.pk).status == "open"  # nothing half-written


def test_keeping_every_kpi_creates_no_draft(world: World, agreed3):
    review = _open(world)
    for item in relevance.relevance_items(review=review):
        relevance.relevance_item_decide(actor=world.client_manager, item=item, decision="keep", now=NOW)
    closed = relevance.relevance_review_close(actor=world.client_manager, review=review, now=NOW)
    assert closed.status == "closed"
    assert closed.draft is None
    assert not AgreementVersion.objects.filter(engagement=world.engagement, status="draft").exists()
