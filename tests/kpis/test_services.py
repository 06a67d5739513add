"""KPI agreement workflow: drafts, validation, propose, counter-propose, sign; signed versions never change."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from pactboard.core.errors import PactboardError
from pactboard.engagements.models import Objective
from pactboard.kpis import negotiation, services
from pactboard.kpis.content import content_hash
from pactboard.kpis.models import AgreementVersion, FrozenError, Milestone, Signature, VersionKpi
from pactboard.kpis.selectors import (
    objective_kpi_counts,
    version_content,
    version_in_force,
    version_kpi_count_warning,
    versions_awaiting_signature,
)
from tests.conftest import World

pytestmark = pytest.mark.django_db
Status = AgreementVersion.Status


def _kpi(world: World, version: AgreementVersion, code: str = "aht", **overrides):
    fields = {
        "code": code,
        "name": "Average handle time",
        "category": "operational",
        "unit": "seconds",
        "direction": "lower",
        "period": "month",
        "target": Decimal("300"),
        "amber": Decimal("330"),
        "stretch": Decimal("280"),
        "weight": Decimal("2"),
        "baseline_value": Decimal("345.5"),
        "baseline_period": "2025-Q4",
        "baseline_source": "Client's own team, telephony reports",
    }
    fields.update(overrides)
    milestones = fields.pop("milestones", [services.MilestoneSpec(date=date(2026, 6, 30), target=Decimal("320"))])
    return services.version_kpi_add(
        actor=world.client_manager, version=version, objective_ids=[world.objective.pk], milestones=milestones, **fields
    )


def _agreed(world: World) -> AgreementVersion:
    draft = services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    _kpi(world, draft)
    proposed = negotiation.version_propose(actor=world.client_manager, version=draft, effective_from=date(2026, 1, 1))
    negotiation.version_sign(actor=world.client_manager, version=proposed)
    negotiation.version_sign(actor=world.provider_manager, version=proposed)
    proposed.refresh_from_db()
    assert proposed.status == Status.AGREED
    return proposed


def test_draft_kpi_propose_sign_by_both_makes_the_version_in_force(world: World):
    draft = services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    assert draft.number == 1
    _kpi(world, draft)
    proposed = negotiation.version_propose(actor=world.client_manager, version=draft, effective_from=date(2026, 2, 1))
    assert proposed.content_hash == content_hash(version_content(version=proposed))
    assert list(versions_awaiting_signature(membership=world.provider_manager)) == [proposed]
    negotiation.version_sign(actor=world.provider_manager, version=proposed)
    assert version_in_force(engagement=world.engagement, on=date(2026, 3, 1)) is None  # one signature binds nothing
    negotiation.version_sign(actor=world.client_manager, version=proposed)
    assert version_in_force(engagement=world.engagement, on=date(2026, 1, 31)) is None  # before its effective date
    assert version_in_force(engagement=world.engagement, on=date(2026, 2, 1)) == proposed
    hashes = set(Signature.objects.filter(version=proposed).values_list("content_hash", flat=True))
    assert hashes == {proposed.content_hash}


def test_new_agreed_version_takes_over_from_its_effective_date(world: World):
    first = _agreed(world)
    draft = services.version_draft_start(actor=world.provider_manager, engagement=world.engagement)
    assert draft.based_on == first
    assert list(draft.kpis.values_list("code", flat=True)) == ["aht"]  # copied
    services.version_kpi_update(actor=world.provider_manager, kpi=draft.kpis.get(), target=Decimal("310"))
    second = negotiation.version_propose(
        actor=world.provider_manager, version=draft, effective_from=date(2026, 7, 1), retroactive=True
    )
    negotiation.version_sign(actor=world.provider_manager, version=second)
    negotiation.version_sign(actor=world.client_manager, version=second)
    assert version_in_force(engagement=world.engagement, on=date(2026, 6, 30)) == first
    assert version_in_force(engagement=world.engagement, on=date(2026, 7, 1)).pk == second.pk
    assert first.kpis.get().target == Decimal("300")  # the old version is untouched


def test_counter_proposal_supersedes_and_copies(world: World):
    draft = services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    _kpi(world, draft)
    proposed = negotiation.version_propose(actor=world.client_manager, version=draft, effective_from=date(2026, 1, 1))
    negotiation.version_comment(
        actor=world.provider_manager, version=proposed, kpi_code="aht", body="300 s is too tight"
    )
    # version_comment: an empty remark is required; a KPI the version does not hold is unknown_kpi.
    for body, kpi_code, location, code in (("  ", "aht", "body", "required"), ("x", "nope", "kpi_code", "unknown_kpi")):
        with pytest.raises(PactboardError) as refused:
            negotiation.version_comment(actor=world.provider_manager, version=proposed, kpi_code=kpi_code, body=body)
        assert [(d.location, d.code) for d in refused.value.details] == [(location, code)]
    with pytest.raises(PactboardError, match="Your organisation made this proposal"):
        negotiation.version_counter_propose(actor=world.client_manager, version=proposed)
    counter = negotiation.version_counter_propose(actor=world.provider_manager, version=proposed)
    proposed.refresh_from_db()
    assert proposed.status == Status.SUPERSEDED
    assert (counter.status, counter.based_on_id, counter.number) == (Status.DRAFT, proposed.pk, 2)
    kpi = counter.kpis.get()
    assert kpi.milestones.count() == 1
    assert list(kpi.objective_links.values_list("objective_id", flat=True)) == [world.objective.pk]
    with pytest.raises(PactboardError, match="only a proposed version can be signed"):
        negotiation.version_sign(actor=world.client_manager, version=proposed)


def test_kpi_refusals_name_each_field(world: World):
    draft = services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    with pytest.raises(PactboardError) as caught:
        _kpi(
            world,
            draft,
            code="Bad Code",
            amber=Decimal("250"),  # lower is better: amber must be above the target
            milestones=[services.MilestoneSpec(date=date(2030, 1, 1), target=Decimal("320"))],
        )
    locations = {d.location: d.message for d in caught.value.details}
    assert "code" in locations
    assert "must be above the target for a lower-is-better KPI" in locations["amber"]
    assert locations["milestones[0].date"] == "must fall within the engagement (2026-01-01 to 2027-12-31)"
    codes = {d.location: d.code for d in caught.value.details}
    assert (codes["code"], codes["milestones[0].date"]) == ("invalid_code", "date_outside_engagement")
    assert not VersionKpi.objects.exists()


def test_kpi_needs_an_objective_of_the_same_engagement(world: World):
    draft = services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    other = Objective.objects.create(engagement=world.other_engagement, key="x", statement="Other tenant's goal")
    for ids, message, code in (
        ([], "at least one objective", "required"),
        ([other.pk], "objectives of this engagement", "unknown_objective"),
    ):
        with pytest.raises(PactboardError) as caught:
            services.version_kpi_add(
                actor=world.client_manager,
                version=draft,
                objective_ids=ids,
                code="aht",
                name="AHT",
                category="operational",
                unit="s",
                direction="lower",
                period="month",
                target=Decimal("300"),
            )
        assert message in caught.value.details[0].message
        assert caught.value.details[0].code == code
    assert not VersionKpi.objects.exists()


def test_catalogue_kpi_fills_defaults_and_formula_is_checked(world: World):
    draft = services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    kpi = services.version_kpi_add(
        actor=world.client_manager,
        version=draft,
        objective_ids=[world.objective.pk],
        catalogue_code="first_contact_resolution",
        target=Decimal("75"),
        source="dataset",
    )
    assert (kpi.code, kpi.unit, kpi.direction, kpi.dataset) == ("first_contact_resolution", "%", "higher", "contacts")
    with pytest.raises(PactboardError) as caught:
        services.version_kpi_add(
            actor=world.client_manager,
            version=draft,
            objective_ids=[world.objective.pk],
            code="bad_formula",
            name="Bad",
            category="operational",
            unit="s",
            direction="lower",
            period="month",
            target=Decimal("1"),
            source="dataset",
            dataset="contacts",
            formula="(select 1)",
        )
    assert caught.value.details[0].location == "formula"


def test_more_than_the_limit_of_active_kpis_warns_but_is_allowed(world: World):
    draft = services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    for i in range(9):
        _kpi(world, draft, code=f"kpi_{i}", milestones=[])
    warning = version_kpi_count_warning(version=draft)
    assert warning is not None
    assert (warning.active, warning.limit) == (9, 8)
    assert draft.kpis.count() == 9


def test_smart_check_sees_the_kpi_link(world: World):
    assert objective_kpi_counts(objective_ids=[world.objective.pk]) == {world.objective.pk: 0}
    draft = services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    _kpi(world, draft)
    assert objective_kpi_counts(objective_ids=[world.objective.pk]) == {world.objective.pk: 1}


def test_outsider_and_viewer_cannot_act(world: World):
    with pytest.raises(PactboardError) as caught:
        services.version_draft_start(actor=world.outsider, engagement=world.engagement)
    assert caught.value.kind == "not_found"
    with pytest.raises(PactboardError) as caught:
        services.version_draft_start(actor=world.client_viewer, engagement=world.engagement)
    assert caught.value.kind == "forbidden"


# --- a signed version never changes -------------------------------------------------------------


def test_signed_version_cannot_change_through_services(world: World):
    agreed = _agreed(world)
    kpi = agreed.kpis.get()
    for attempt in (
        lambda: services.version_kpi_update(actor=world.client_manager, kpi=kpi, target=Decimal("1")),
        lambda: services.version_kpi_remove(actor=world.client_manager, kpi=kpi),
        lambda: _kpi(world, agreed, code="extra"),
        lambda: negotiation.version_propose(
            actor=world.client_manager, version=agreed, effective_from=date(2026, 5, 1)
        ),
        lambda: negotiation.version_withdraw(actor=world.client_manager, version=agreed),
    ):
        with pytest.raises(PactboardError) as caught:
            attempt()
        assert caught.value.kind == "conflict"
    assert agreed.kpis.get().target == Decimal("300")


def test_signed_version_cannot_change_through_a_plain_orm_save(world: World):
    agreed = _agreed(world)
    kpi = agreed.kpis.get()
    kpi.target = Decimal("1")
    with pytest.raises(FrozenError):
        kpi.save()
    with pytest.raises(FrozenError):
        kpi.delete()
    agreed.effective_from = date(2026, 9, 1)
    with pytest.raises(FrozenError):
        agreed.save()
    milestone = Milestone.objects.get(version_kpi=kpi)
    milestone.target = Decimal("1")
    with pytest.raises(FrozenError):
        milestone.save()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE kpis_versionkpi SET target = 1 WHERE version_id = {v}",
        "DELETE FROM kpis_versionkpi WHERE version_id = {v}",
        "UPDATE kpis_milestone SET target = 1",
        "UPDATE kpis_agreementversion SET effective_from = '2026-09-01' WHERE id = {v}",
        "UPDATE kpis_agreementversion SET status = 'draft' WHERE id = {v}",
        "DELETE FROM kpis_agreementversion WHERE id = {v}",
        "UPDATE kpis_signature SET content_hash = 'x'",
        "DELETE FROM kpis_signature",
    ],
)
def test_signed_version_cannot_change_even_in_raw_sql(world: World, sql):
    agreed = _agreed(world)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql.format(v=agreed.pk))
    assert agreed.kpis.get().target == Decimal("300")
    assert Signature.objects.filter(version=agreed).count() == 2


def test_proposed_version_content_is_frozen_in_the_database(world: World):
    draft = services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    _kpi(world, draft)
    proposed = negotiation.version_propose(actor=world.client_manager, version=draft, effective_from=date(2026, 1, 1))
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE kpis_versionkpi SET target = 1 WHERE version_id = %s", [proposed.pk])
    # Changing status is how a proposal moves on; that stays possible.
    negotiation.version_withdraw(actor=world.client_manager, version=proposed)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_signatures_each_count_exactly_once(world: World):
    draft = services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    _kpi(world, draft)
    proposed = negotiation.version_propose(actor=world.client_manager, version=draft, effective_from=date(2026, 1, 1))
    barrier = threading.Barrier(4)
    outcomes: list[str] = []
    lock = threading.Lock()

    def sign(membership) -> None:
        barrier.wait()
        try:
            negotiation.version_sign(actor=membership, version=AgreementVersion.objects.get(pk=proposed.pk))
            result = "signed"
        except PactboardError as exc:
            result = f"refused: {exc.message}"
        except DatabaseError as exc:  # SQLite may time out a writer instead of queueing it
            result = f"db: {exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    # Each party tries to sign twice at the same moment.
    people = [world.client_manager, world.provider_manager, world.client_manager, world.provider_manager]
    threads = [threading.Thread(target=sign, args=(m,)) for m in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    signatures = Signature.objects.filter(version=proposed)
    assert sorted(signatures.values_list("organisation_id", flat=True)) == sorted(
        [world.client_org.pk, world.provider_org.pk]
    ), outcomes
    assert outcomes.count("signed") == 2, outcomes
    # A party's second attempt is refused: either it has already signed, or both have and the version is agreed.
    refusals = [o for o in outcomes if o != "signed"]
    assert all("already signed" in o or "is agreed" in o for o in refusals), outcomes
    proposed.refresh_from_db()
    assert proposed.status == Status.AGREED


def test_custom_kpi_formula_is_checked_when_it_is_defined(world: World):
    with pytest.raises(PactboardError) as caught:
        services.custom_kpi_create(
            actor=world.client_manager,
            code="repeat_rate",
            name="Repeat rate",
            category="quality",
            unit="%",
            direction="lower",
            definition="Contacts that repeat within 7 days.",
            dataset="contacts",
            formula="100.0 * count(*) filter (where repeated) / count(*)",
        )
    assert caught.value.details[0].location == "formula"
    assert "repeated" in caught.value.details[0].message
    kpi = services.custom_kpi_create(
        actor=world.client_manager,
        code="repeat_rate",
        name="Repeat rate",
        category="quality",
        unit="%",
        direction="lower",
        definition="Contacts not resolved at first contact.",
        dataset="contacts",
        formula="100.0 * count(*) filter (where not first_contact_resolved) / count(*)",
    )
    assert kpi.organisation == world.client_org


def test_kpi_and_proposal_refusals_carry_codes(world: World):
    """Each refusal has a machine-readable code beside its words (docs/api.md), the same word for the
    same problem as elsewhere: out_of_range as a value's, date_outside_engagement for any date."""
    draft = services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    with pytest.raises(PactboardError) as empty:
        negotiation.version_propose(actor=world.client_manager, version=draft, effective_from=date(2030, 1, 1))
    assert {(d.location, d.code) for d in empty.value.details} == {
        (None, "no_kpis"),
        ("effective_from", "date_outside_engagement"),
    }
    with pytest.raises(PactboardError) as bounds:
        _kpi(world, draft, min_value=Decimal("400"), max_value=Decimal("100"))
    assert ("min_value", "min_not_below_max") in [(d.location, d.code) for d in bounds.value.details]
    with pytest.raises(PactboardError) as below:
        _kpi(world, draft, min_value=Decimal("310"))  # the target, 300, is below the lowest value allowed
    assert ("target", "out_of_range") in [(d.location, d.code) for d in below.value.details]
    _kpi(world, draft)
    with pytest.raises(PactboardError) as twice:
        _kpi(world, draft)
    assert [(d.location, d.code) for d in twice.value.details] == [("code", "duplicate_code")]
    assert VersionKpi.objects.count() == 1
