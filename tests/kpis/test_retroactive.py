"""A new proposal takes effect from the next period unless both parties see, before signing, that it
re-scores periods already scored, and its proposer chose that explicitly.

"Now" is 2026-11-29 12:00 UTC (13:00 in Berlin, the engagement's zone): November 2026 has begun, so the
next month starts on 2026-12-01. Version 1 (monthly AHT, in force from 2026-01-01) is agreed; a change
effective 2026-01-01 re-scores every month begun since: 2026-01 to 2026-11, eleven months.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from pactboard.accounts.services import api_token_create
from pactboard.core.errors import PactboardError
from pactboard.kpis import negotiation, services
from pactboard.kpis.models import AgreementVersion
from pactboard.kpis.selectors import version_next_period_start, version_rescored_periods
from tests.conftest import World, client_for
from tests.kpis.test_services import _agreed, _kpi

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
ELEVEN = [f"2026-{m:02d}" for m in range(1, 12)]


@pytest.fixture
def change(world: World) -> AgreementVersion:
    """A draft based on the agreed version 1, with AHT's target changed from 300 to 310 s."""
    _agreed(world)
    draft = services.version_draft_start(actor=world.provider_manager, engagement=world.engagement)
    services.version_kpi_update(actor=world.provider_manager, kpi=draft.kpis.get(), target=Decimal("310"))
    return draft


def test_the_default_is_the_start_of_the_next_period(world: World, change):
    assert version_next_period_start(version=change, now=NOW) == date(2026, 12, 1)


def test_an_earlier_date_is_refused_without_an_explicit_choice(world: World, change):
    with pytest.raises(PactboardError) as caught:
        negotiation.version_propose(
            actor=world.provider_manager, version=change, effective_from=date(2026, 1, 1), now=NOW
        )
    detail = caught.value.details[0]
    assert detail.location == "effective_from"
    assert "re-scores 11 periods already scored (2026-01 to 2026-11)" in detail.message
    assert "2026-12-01" in detail.message
    change.refresh_from_db()
    assert change.status == "draft"


def test_an_explicitly_retroactive_proposal_names_the_periods_it_rescores(world: World, change):
    proposed = negotiation.version_propose(
        actor=world.provider_manager, version=change, effective_from=date(2026, 1, 1), retroactive=True, now=NOW
    )
    assert [p.label for p in version_rescored_periods(version=proposed, now=NOW)] == ELEVEN


def test_the_next_period_rescores_nothing(world: World, change):
    proposed = negotiation.version_propose(
        actor=world.provider_manager, version=change, effective_from=date(2026, 12, 1), now=NOW
    )
    assert version_rescored_periods(version=proposed, now=NOW) == []


def test_a_first_agreement_rescores_nothing(world: World):
    # Nothing was scored before the first agreement, so its start date needs no confirmation.
    draft = services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    _kpi(world, draft)
    proposed = negotiation.version_propose(
        actor=world.client_manager, version=draft, effective_from=date(2026, 1, 1), now=NOW
    )
    assert version_rescored_periods(version=proposed, now=NOW) == []


def _page(membership, version: AgreementVersion) -> str:
    url = f"/engagements/{version.engagement_id}/agreement/versions/{version.pk}/"
    return client_for(membership).get(url).text


def test_form_defaults_warns_both_parties_and_names_it_in_the_diff(world: World, change, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    page = _page(world.provider_manager, change)
    assert 'name="propose-effective_from" value="2026-12-01"' in page
    url = f"/engagements/{change.engagement_id}/agreement/versions/{change.pk}/propose/"
    pedro = client_for(world.provider_manager)
    refused = pedro.post(url, {"propose-effective_from": "2026-01-01"})
    assert refused.status_code == 422
    assert "re-scores 11 periods already scored" in refused.text
    accepted = pedro.post(url, {"propose-effective_from": "2026-01-01", "propose-retroactive": "on"})
    assert accepted.status_code == 302
    for member in (world.client_manager, world.provider_manager):
        page = _page(member, change)
        assert 'data-testid="retroactive"' in page
        assert "re-scores 11 periods already scored: 2026-01 to 2026-11" in page
        # The diff's effective-date row says so too.
        assert "2026-01-01 (retroactive: re-scores 2026-01 to 2026-11)" in page


def test_api_defaults_to_the_next_period_and_needs_retroactive_for_earlier(world: World, change, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    _, raw = api_token_create(membership=world.provider_manager, name="t")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    url = f"/api/versions/{change.pk}/propose"
    refused = api.post(url, {"effective_from": "2026-01-01"}, content_type="application/json")
    assert refused.status_code == 422
    assert refused.json()["details"][0]["location"] == "effective_from"
    accepted = api.post(url, {}, content_type="application/json")
    assert accepted.status_code == 200
    assert accepted.json()["effective_from"] == "2026-12-01"
