"""The business-change log (F10): either party logs; linked KPIs must exist; every entry is audited."""

from __future__ import annotations

from datetime import date

import pytest

from pactboard.audit.models import AuditEvent
from pactboard.core.errors import PactboardError
from pactboard.engagements.selectors import business_change_list
from pactboard.engagements.services import business_change_record
from pactboard.kpis.selectors import engagement_kpi_names
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_either_party_logs_and_both_read(world: World, build_engagement):
    engagement = build_engagement(2, 1)
    first = business_change_record(
        actor=world.client_manager, engagement=engagement, date=date(2024, 3, 1), kind="launch", title="New app"
    )
    second = business_change_record(
        actor=world.provider_manager,
        engagement=engagement,
        date=date(2024, 5, 1),
        kind="organisational",
        title="New site in Cape Town",
        description="  40 agents moved  ",
        kpi_codes=["kpi_01", "kpi_01"],
    )
    assert second.kpi_codes == ["kpi_01"]
    assert second.description == "40 agents moved"
    for member in (world.client_viewer, world.provider_manager):
        assert business_change_list(membership=member, engagement=engagement) == [second, first]
    # A change linked to no KPI concerns every KPI.
    assert business_change_list(membership=world.client_manager, engagement=engagement, kpi_code="kpi_00") == [first]
    assert business_change_list(membership=world.outsider, engagement=engagement) == []
    events = AuditEvent.objects.filter(action="business_change.record").order_by("seq")
    assert [e.organisation_id for e in events] == [world.client_org.pk, world.provider_org.pk]
    assert events[1].after["kpi_codes"] == ["kpi_01"]


def test_unknown_kpi_kind_and_empty_title_are_refused(world: World, build_engagement):
    engagement = build_engagement(1, 1)
    with pytest.raises(PactboardError) as unknown:
        business_change_record(
            actor=world.client_manager,
            engagement=engagement,
            date=date(2024, 3, 1),
            kind="launch",
            title="X",
            kpi_codes=["nope"],
        )
    assert unknown.value.details[0].location == "kpi_codes"
    assert "kpi_00" in unknown.value.message
    with pytest.raises(PactboardError) as bad:
        business_change_record(
            actor=world.client_manager, engagement=engagement, date=date(2024, 3, 1), kind="rumour", title=" "
        )
    assert {d.location for d in bad.value.details} == {"kind", "title"}
    assert not AuditEvent.objects.filter(action="business_change.record").exists()


def test_viewers_and_outsiders_cannot_log(world: World, build_engagement):
    engagement = build_engagement(1, 1)
    with pytest.raises(PactboardError) as viewer:
        business_change_record(
            actor=world.client_viewer, engagement=engagement, date=date(2024, 3, 1), kind="launch", title="X"
        )
    assert viewer.value.kind == "forbidden"
    with pytest.raises(PactboardError) as outsider:
        business_change_record(
            actor=world.outsider, engagement=engagement, date=date(2024, 3, 1), kind="launch", title="X"
        )
    assert outsider.value.kind == "not_found"


def test_kpi_names_for_the_form(world: World, build_engagement):
    engagement = build_engagement(3, 1)
    assert engagement_kpi_names(engagement=engagement) == {"kpi_00": "KPI 00", "kpi_01": "KPI 01", "kpi_02": "KPI 02"}


def test_a_date_long_before_the_engagement_is_refused(world: World, build_engagement):
    # The engagement starts 1 Jan 2024. A change up to one year before the start may explain the baseline
    # and the first values, so 1 Jan 2023 is accepted; 31 Dec 2022 and a mistyped 1976 are refused.
    engagement = build_engagement(1, 1)
    kept = business_change_record(
        actor=world.client_manager, engagement=engagement, date=date(2023, 1, 1), kind="launch", title="Old app"
    )
    assert kept.date == date(2023, 1, 1)
    for day in (date(2022, 12, 31), date(1976, 3, 1)):
        with pytest.raises(PactboardError) as caught:
            business_change_record(
                actor=world.client_manager, engagement=engagement, date=day, kind="launch", title="Typo"
            )
        assert caught.value.details[0].location == "date"
        assert caught.value.message == (
            f"{day.day} {day:%b} {day.year} is more than a year before the engagement starts (1 Jan 2024): "
            "check the year; changes from 1 Jan 2023 on can be logged."
        )
    assert AuditEvent.objects.filter(action="business_change.record").count() == 1


def test_the_form_shows_the_date_refusal_at_the_date_field(world: World, build_engagement):
    from tests.conftest import client_for

    engagement = build_engagement(1, 1)
    response = client_for(world.client_manager).post(
        f"/engagements/{engagement.pk}/business-changes/", {"date": "1976-03-01", "kind": "launch", "title": "Typo"}
    )
    assert response.status_code == 422
    assert "more than a year before the engagement starts" in response.context["form"].errors["date"][0]
