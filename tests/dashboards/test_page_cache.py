"""The dashboard's and the portfolio's cached fragments: a write shows at once, nothing crosses tenants.

The fragments are cached on exactly what they show (dashboards/pagecache.py). Each test first
renders a page (so its fragments are in the cache), then changes one input through the services
(a value, a newly signed version, the calendar, a feedback thread) and checks that the very next
request shows the change. KPIs from ``agree_kpis``: kpi_00 higher-is-better, target 80, amber 75,
stretch 90.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from pactboard.core.periods import Period
from pactboard.dashboards.selectors import local_today, portfolio_stamp
from pactboard.engagements.models import Engagement
from pactboard.governance import services as governance_services
from pactboard.kpis import negotiation as kpi_negotiation
from pactboard.kpis import services as kpi_services
from pactboard.kpis.models import VersionKpi
from pactboard.measurements import services as measurement_services
from tests.conftest import World, client_for, make_engagement
from tests.dashboards.conftest import agree_kpis

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _engagement(world: World, name: str = "Cached support") -> tuple[Engagement, Period]:
    """Six closed months of kpi_00 at 74 (a miss: below amber 75) and kpi_01 at 18 (met: 20 or lower)."""
    engagement = make_engagement(world.client_org, world.provider_org, name)
    running = Period.containing("month", local_today(engagement))
    engagement.start_date, engagement.end_date = running.shift(-6).start, running.shift(12).start
    engagement.save()
    agree_kpis(world, engagement, 2)
    rows = [
        measurement_services.ValueRow(kpi_code=code, period=running.shift(i), value=Decimal(v))
        for code, v in (("kpi_00", 74), ("kpi_01", 18))
        for i in range(-6, 0)
    ]
    measurement_services.values_push(actor=world.provider_manager, engagement=engagement, rows=rows)
    return engagement, running.previous()


def _tile(html: str, code: str) -> str:
    tile = re.search(rf'data-kpi="{code}".*?</li>', html, flags=re.S)
    assert tile is not None, code
    return tile.group(0)


def _text(fragment: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</', fragment, flags=re.S)
    assert found is not None, testid
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_a_new_value_shows_on_the_next_request(world: World):
    engagement, last = _engagement(world)
    c = client_for(world.client_manager)
    url = f"/engagements/{engagement.pk}/dashboard/"
    before = _tile(c.get(url).text, "kpi_00")
    assert "74" in _text(before, "tile-value")
    assert "pill-missed" in before
    # A correction of last month's value: 85 is met (80 <= 85 < stretch 90).
    measurement_services.measurement_record(
        actor=world.provider_manager,
        engagement=engagement,
        kpi_code="kpi_00",
        period=last,
        value=Decimal(85),
        reason="Recounted",
    )
    after = _tile(c.get(url).text, "kpi_00")
    assert "85" in _text(after, "tile-value")
    assert "pill-met" in after
    # The other party's first request after the write shows it too.
    assert "85" in _text(_tile(client_for(world.provider_manager).get(url).text, "kpi_00"), "tile-value")


def test_a_newly_signed_version_shows_its_target_at_once(world: World):
    engagement, _ = _engagement(world)
    c = client_for(world.client_manager)
    url = f"/engagements/{engagement.pk}/dashboard/"
    before = _tile(c.get(url).text, "kpi_00")
    assert "Target 80" in before
    assert "pill-missed" in before
    # Version 2 lowers kpi_00's target to 70 (amber 65, stretch 85) from the start, retroactively.
    draft = kpi_services.version_draft_start(actor=world.client_manager, engagement=engagement)
    kpi = VersionKpi.objects.get(version=draft, code="kpi_00")
    kpi_services.version_kpi_update(
        actor=world.client_manager, kpi=kpi, target=Decimal(70), amber=Decimal(65), stretch=Decimal(85)
    )
    proposed = kpi_negotiation.version_propose(
        actor=world.client_manager, version=draft, effective_from=engagement.start_date, retroactive=True
    )
    kpi_negotiation.version_sign(actor=world.client_manager, version=proposed)
    kpi_negotiation.version_sign(actor=world.provider_manager, version=proposed)
    after = _tile(c.get(url).text, "kpi_00")
    assert "Target 70" in after
    assert "pill-met" in after  # 74 against 70: met
    assert "Agreement v2" in c.get(url).text


def test_the_period_rolling_over_in_the_engagement_zone_changes_the_default_period(world: World):
    # 30 June 2026, 23:00 in Berlin (21:00 UTC): June is running, May is the latest closed month.
    with time_machine.travel(datetime(2026, 6, 30, 21, 0, tzinfo=UTC), tick=False):
        engagement, last = _engagement(world)
        assert last.label == "2026-05"
        c = client_for(world.client_manager)
        url = f"/engagements/{engagement.pk}/dashboard/"
        assert _text(_tile(c.get(url).text, "kpi_00"), "tile-value") == "74 %"
        june = Period("month", last.shift(1).start)
        measurement_services.values_push(
            actor=world.provider_manager,
            engagement=engagement,
            rows=[measurement_services.ValueRow(kpi_code="kpi_00", period=june, value=Decimal(91))],
        )
        # June is still running: the default stays May (a running period never replaces a closed one).
        assert 'class="tile-period">2026-05<' in _tile(c.get(url).text, "kpi_00")
    # 30 June, 22:30 UTC: still 30 June in UTC, already 1 July in Berlin. No write: the stamp is the
    # same, only the engagement's day changed, and June is now the latest closed month.
    with time_machine.travel(datetime(2026, 6, 30, 22, 30, tzinfo=UTC), tick=False):
        tile = _tile(c.get(url).text, "kpi_00")
        assert 'class="tile-period">2026-06<' in tile
        assert "91" in _text(tile, "tile-value")
        assert "pill-exceeded" in tile  # 91 beats the stretch of 90


def test_feedback_opened_and_resolved_show_at_once(world: World):
    engagement, last = _engagement(world)
    c = client_for(world.provider_manager)
    url = f"/engagements/{engagement.pk}/dashboard/"
    assert 'data-testid="tile-feedback"' not in c.get(url).text
    thread = governance_services.feedback_thread_start(
        actor=world.client_manager,
        engagement=engagement,
        kpi_code="kpi_00",
        period=last,
        title="Why below?",
        body="Please explain.",
        now=timezone.now(),
    )
    assert 'data-testid="tile-feedback"' in _tile(c.get(url).text, "kpi_00")
    governance_services.feedback_thread_resolve(
        actor=world.client_manager, thread=thread, resolved=True, now=timezone.now()
    )
    assert 'data-testid="tile-feedback"' not in c.get(url).text


def test_a_chosen_period_is_cached_apart_from_the_default(world: World):
    engagement, last = _engagement(world)
    c = client_for(world.client_manager)
    url = f"/engagements/{engagement.pk}/dashboard/"
    earlier = last.shift(-2)
    c.get(url)
    chosen = c.get(f"{url}?period={earlier.label}").text
    assert f'class="tile-period">{earlier.label}<' in _tile(chosen, "kpi_00")
    assert f'class="tile-period">{last.label}<' in _tile(c.get(url).text, "kpi_00")
    # The poll URL of the chosen period keeps asking for it.
    poll = re.search(r'id="dashboard-live"[^>]*hx-get="([^"]+)"', chosen).group(1)  # type: ignore[union-attr]
    assert f"period={earlier.label}" in poll


def test_portfolio_row_changes_with_a_new_value(world: World):
    engagement, last = _engagement(world)
    c = client_for(world.client_manager)
    row = re.compile(rf'data-engagement="{engagement.pk}".*?</tr>', flags=re.S)
    before = row.search(c.get("/portfolio/").text).group(0)  # type: ignore[union-attr]
    # kpi_00 (weight 1) missed, kpi_01 (weight 2) met: status score (0 x 1 + 100 x 2) / 3 = 66.7.
    assert _text(before, "status-score") == "66.7"
    measurement_services.measurement_record(
        actor=world.provider_manager,
        engagement=engagement,
        kpi_code="kpi_00",
        period=last,
        value=Decimal(85),
        reason="Recounted",
    )
    after = row.search(c.get("/portfolio/").text).group(0)  # type: ignore[union-attr]
    assert _text(after, "status-score") == "100"  # both met


def test_portfolio_stamp_on_the_page_is_the_poll_stamp(world: World):
    # The page builds its stamp from the rows it reads; the poll reads portfolio_stamp. They must agree,
    # or every open portfolio would re-render each second (or, worse, miss a change).
    _engagement(world)
    c = client_for(world.client_manager)
    html = c.get("/portfolio/").text
    shown = re.search(r'data-stamp="([^"]*)"', html).group(1)  # type: ignore[union-attr]
    assert shown == portfolio_stamp(membership=world.client_manager)
    assert c.get(f"/portfolio/?since={shown}", **HTMX).status_code == 204
    filtered = c.get("/portfolio/?q=cached").text
    assert re.search(r'data-stamp="([^"]*)"', filtered).group(1) == shown  # type: ignore[union-attr]


def test_each_party_sees_its_own_counterparty_from_the_cache(world: World):
    engagement, _ = _engagement(world)
    row = re.compile(rf'data-engagement="{engagement.pk}".*?</tr>', flags=re.S)
    client_row = row.search(client_for(world.client_manager).get("/portfolio/").text).group(0)  # type: ignore[union-attr]
    provider_row = row.search(client_for(world.provider_manager).get("/portfolio/").text).group(0)  # type: ignore[union-attr]
    assert world.provider_org.name in client_row
    assert world.client_org.name in provider_row
    assert world.provider_org.name not in provider_row


def test_another_tenant_never_gets_cached_data(world: World):
    engagement, _ = _engagement(world, name="Tenant A secret")
    a = client_for(world.client_manager)
    assert a.get(f"/engagements/{engagement.pk}/dashboard/").status_code == 200
    assert "Tenant A secret" in a.get("/portfolio/").text
    outsider = client_for(world.outsider)
    # With tenant A's fragments in the cache, tenant B still gets a 404 and a portfolio of its own.
    assert outsider.get(f"/engagements/{engagement.pk}/dashboard/").status_code == 404
    assert outsider.get(f"/engagements/{engagement.pk}/dashboard/?since=x", **HTMX).status_code == 404
    page = outsider.get("/portfolio/").text
    assert "Tenant A secret" not in page
    assert world.client_org.name not in page
    assert "Globex back office" in page
