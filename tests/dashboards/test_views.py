"""Dashboard pages: tenancy, live polling, the same numbers for both parties, query counts."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pactboard.audit.models import AuditEvent
from pactboard.core.periods import Period
from pactboard.dashboards.pagecache import page_cache_clear
from pactboard.dashboards.selectors import agreed_cache_clear, engagement_stamp, portfolio_stamp
from pactboard.engagements import services as engagement_services
from pactboard.engagements.models import BusinessChange
from tests.conftest import World, client_for
from tests.dashboards.conftest import kpi_code, push_values

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _urls(pk: int) -> list[str]:
    return [
        f"/engagements/{pk}/dashboard/",
        f"/engagements/{pk}/dashboard/?since=x",
        f"/engagements/{pk}/kpis/kpi_00/",
        f"/engagements/{pk}/business-changes/",
    ]


def test_outsider_gets_404_on_every_engagement_page(world: World, build_engagement):
    engagement = build_engagement(2, 3)
    outsider = client_for(world.outsider)
    for url in _urls(engagement.pk):
        assert outsider.get(url).status_code == 404, url
        assert outsider.get(url, **HTMX).status_code == 404, url
    response = outsider.post(
        f"/engagements/{engagement.pk}/business-changes/", {"date": "2024-02-01", "kind": "launch", "title": "X"}
    )
    assert response.status_code == 404
    assert not BusinessChange.objects.exists()


def test_outsider_portfolio_shows_only_its_own_engagements(world: World, build_engagement):
    build_engagement(2, 3)
    response = client_for(world.outsider).get("/portfolio/")
    assert response.status_code == 200
    assert "Globex back office" in response.text
    assert "Big support" not in response.text
    assert "Acme support" not in response.text


def test_anonymous_is_sent_to_log_in(world: World):
    response = client_for(world.client_manager).get("/portfolio/")
    assert response.status_code == 200
    from django.test import Client

    dashboard = f"/engagements/{world.engagement.pk}/dashboard/"
    assert Client().get("/portfolio/").status_code == 302
    plain = Client().get(dashboard)
    assert (plain.status_code, plain["Location"]) == (302, f"/accounts/login/?next={dashboard}")


def test_a_live_poll_after_logging_out_loads_the_log_in_page_as_a_page(world: World):
    """A plain redirect would swap the log-in page into the polled slot, and poll into it every second.

    HTMX's response header HX-Redirect makes the browser load the log-in page as a page instead
    (https://htmx.org/reference/#response_headers), coming back to the page in the address bar.
    """
    from django.test import Client

    dashboard = f"/engagements/{world.engagement.pk}/dashboard/"
    here = f"http://testserver{dashboard}?period=2026-10"
    poll = Client().get(dashboard, HTTP_HX_CURRENT_URL=here, **HTMX)
    assert poll.status_code == 200
    assert "Location" not in poll
    assert poll["HX-Redirect"] == f"/accounts/login/?next={dashboard}%3Fperiod%3D2026-10"
    assert poll.content == b""
    # A posted fragment goes the same way; the page it was posted from is where log-in returns.
    values = f"/engagements/{world.engagement.pk}/kpis/qa_score/values/"
    posted = Client().post(values, {"period": "2026-10", "value": "90"}, HTTP_HX_CURRENT_URL=here, **HTMX)
    assert posted["HX-Redirect"] == poll["HX-Redirect"]
    # Another site's address is not a place to come back to: the log-in page then goes to its default.
    foreign = Client().get(dashboard, HTTP_HX_CURRENT_URL="https://evil.example/phish", **HTMX)
    assert foreign["HX-Redirect"] == "/accounts/login/"
    unnamed = Client().get(dashboard, **HTMX)
    assert unnamed["HX-Redirect"] == "/accounts/login/"


def _tile_values(html: str) -> list[tuple[str, str, str]]:
    return re.findall(
        r'data-kpi="(\w+)".*?data-testid="tile-value">([^<]*)<.*?data-testid="tile-status">.*?</span> ([^<]+)</span>',
        html,
        re.S,
    )


def test_client_and_provider_see_the_same_numbers(world: World, build_engagement, monkeypatch):
    engagement = build_engagement(4, 8)
    # On 5 September 2024 August, the last month with values, is the latest closed month the page shows.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2024, 9, 5, 12, tzinfo=UTC))
    pages = [
        client_for(m).get(f"/engagements/{engagement.pk}/dashboard/")
        for m in (world.client_manager, world.provider_manager)
    ]
    assert all(p.status_code == 200 for p in pages)
    client_tiles, provider_tiles = (_tile_values(p.text) for p in pages)
    assert len(client_tiles) == 4
    assert client_tiles == provider_tiles
    score = re.compile(r'data-testid="weighted-score">([^<]+)<')
    assert score.findall(pages[0].text) == score.findall(pages[1].text) != ["—"]


def test_poll_answers_204_until_a_value_lands_then_the_partial(world: World, build_engagement):
    engagement = build_engagement(2, 3)
    c = client_for(world.client_viewer)
    stamp = engagement_stamp(engagement_id=engagement.pk)
    url = f"/engagements/{engagement.pk}/dashboard/?since={stamp}"
    assert c.get(url, **HTMX).status_code == 204
    # Without HTMX (a reload with the URL) the page renders whatever the stamp.
    assert c.get(url).status_code == 200
    push_values(world.provider_manager, engagement, [kpi_code(0)], [Period.parse("2024-04")])
    response = c.get(url, **HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith(("{% load", "<div")) or 'id="dashboard-live"' in response.text[:300]
    assert "<html" not in response.text
    new_stamp = engagement_stamp(engagement_id=engagement.pk)
    assert f"since={new_stamp}" in response.text.replace("%3A", ":").replace("%2B", "+")
    assert 'data-kpi="kpi_00"' in response.text
    assert "2024-04" in response.text


def test_kpi_page_polls_and_asks_the_values_table_to_reload(world: World, build_engagement):
    engagement = build_engagement(1, 3)
    c = client_for(world.client_manager)
    stamp = engagement_stamp(engagement_id=engagement.pk)
    url = f"/engagements/{engagement.pk}/kpis/kpi_00/?since={stamp}"
    assert c.get(url, **HTMX).status_code == 204
    push_values(world.provider_manager, engagement, [kpi_code(0)], [Period.parse("2024-04")])
    response = c.get(url, **HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "kpi-values-changed"


def test_portfolio_polls(world: World, build_engagement):
    engagement = build_engagement(1, 3)
    c = client_for(world.client_manager)
    stamp = portfolio_stamp(membership=world.client_manager)
    assert c.get(f"/portfolio/?sort=-status_score&since={stamp}", **HTMX).status_code == 204
    push_values(world.provider_manager, engagement, [kpi_code(0)], [Period.parse("2024-04")])
    response = c.get(f"/portfolio/?sort=-status_score&since={stamp}", **HTMX)
    assert response.status_code == 200
    assert 'id="portfolio-live"' in response.text
    assert "sort=-status_score" in response.text


def test_kpi_page_has_chart_values_fragment_feedback_and_annotations(world: World, build_engagement):
    engagement = build_engagement(1, 6)
    engagement_services.business_change_record(
        actor=world.provider_manager,
        engagement=engagement,
        date=date(2024, 3, 15),
        kind="launch",
        title="Self-service portal live",
        kpi_codes=["kpi_00"],
    )
    response = client_for(world.client_manager).get(f"/engagements/{engagement.pk}/kpis/kpi_00/")
    assert response.status_code == 200
    html = response.text
    values_url = f"/engagements/{engagement.pk}/kpis/kpi_00/values/"
    assert f'hx-get="{values_url}"' in html
    assert 'hx-trigger="load, kpi-values-changed from:body"' in html
    assert f'<a href="{values_url}">' in html  # the link works without JavaScript
    assert 'data-testid="feedback-section"' in html
    assert '<h2 id="feedback-h">Feedback</h2>' in html
    spec = json.loads(re.search(r'<script id="kpi-chart-spec" type="application/json">(.*?)</script>', html, re.S)[1])  # type: ignore[index]
    assert spec["datasets"]["changes"][0]["title"] == "Self-service portal live"
    assert spec["datasets"]["baseline"][0]["label"] == "Baseline 70 % (2023-Q4)"
    assert [p["period"] for p in spec["datasets"]["points"]][:2] == ["2024-01", "2024-02"]
    assert "Self-service portal live" in html  # and in the numbered list under the chart
    assert 'data-testid="chart-table"' in html


def test_unknown_kpi_is_404(world: World, build_engagement):
    engagement = build_engagement(1, 1)
    assert client_for(world.client_manager).get(f"/engagements/{engagement.pk}/kpis/nope/").status_code == 404


def test_business_change_form_logs_and_audits(world: World, build_engagement):
    engagement = build_engagement(2, 1)
    c = client_for(world.provider_manager)
    url = f"/engagements/{engagement.pk}/business-changes/"
    assert c.get(url).status_code == 200
    bad = c.post(url, {"date": "", "kind": "launch", "title": ""})
    assert bad.status_code == 422
    assert BusinessChange.objects.count() == 0
    response = c.post(
        url,
        {"date": "2024-02-01", "kind": "market", "title": "Competitor price cut", "kpi_codes": [kpi_code(1)]},
    )
    assert response.status_code == 302
    change = BusinessChange.objects.get()
    assert change.kpi_codes == [kpi_code(1)]
    assert change.created_by_org == world.provider_org
    assert AuditEvent.objects.filter(action="business_change.record", engagement_id=engagement.pk).count() == 1
    listing = client_for(world.client_manager).get(url)
    assert "Competitor price cut" in listing.text


def test_viewer_reads_the_log_but_cannot_add(world: World, build_engagement):
    engagement = build_engagement(1, 1)
    c = client_for(world.client_viewer)
    url = f"/engagements/{engagement.pk}/business-changes/"
    assert 'data-testid="change-form"' not in c.get(url).text
    assert c.post(url, {"date": "2024-02-01", "kind": "market", "title": "X"}).status_code == 403


def _queries(c, url: str, *, cold: bool = True, page_cold: bool = True) -> int:
    if cold:  # the worst case: agreed versions not cached yet in this process
        agreed_cache_clear()
    if page_cold:  # nor the page's own fragments (as after a write)
        page_cache_clear()
    with CaptureQueriesContext(connection) as ctx:
        assert c.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_dashboard_queries_do_not_grow_with_kpis(world: World, build_engagement):
    # 34 months: 2024-01 to 2026-10, all begun (a value for a period not yet begun is refused).
    small = build_engagement(5, 34, "Five KPIs")
    large = build_engagement(20, 34, "Twenty KPIs")
    c = client_for(world.client_manager)
    c.get(f"/engagements/{small.pk}/dashboard/")  # warm the session
    for page in ("dashboard/", "kpis/kpi_00/"):
        n_small = _queries(c, f"/engagements/{small.pk}/{page}")
        n_large = _queries(c, f"/engagements/{large.pk}/{page}")
        assert n_small == n_large, page
        assert n_large <= 15, page
        # Warm: the agreed version's KPIs and milestones come from the per-process cache.
        assert _queries(c, f"/engagements/{large.pk}/{page}", cold=False) == n_large - 2, page
    # The dashboard reads its stamp once, not twice as it did (15 queries with everything cold), and the
    # stamp's newest value time is the page's "last value arrived" (no query of its own: 14 before).
    assert _queries(c, f"/engagements/{large.pk}/dashboard/") == 13
    # Its fragment cached: no values, versions or summaries read; 9 for 5 KPIs as for 20.
    c.get(f"/engagements/{small.pk}/dashboard/")
    small_hit = _queries(c, f"/engagements/{small.pk}/dashboard/", cold=False, page_cold=False)
    assert _queries(c, f"/engagements/{large.pk}/dashboard/", cold=False, page_cold=False) == small_hit == 9


def test_portfolio_queries_do_not_grow_with_engagements(world: World, build_engagement):
    c = client_for(world.client_manager)
    build_engagement(2, 6, "E1")
    c.get("/portfolio/")
    one = _queries(c, "/portfolio/")
    for i in range(2, 6):
        build_engagement(2, 6, f"E{i}")
    assert _queries(c, "/portfolio/") == one <= 15
    # The stamp is built from the rows it reads, not read again by two more queries (it was 12 cold).
    assert one == 10
    # Every row cached: the window's values and the versions' KPIs are not read.
    assert _queries(c, "/portfolio/", cold=False, page_cold=False) == 7


def test_live_regions_carry_the_update_time_in_the_engagement_zone(world: World, build_engagement):
    # The live "Updated at …" line is rendered by the server in the engagement's zone with the zone
    # named (docs/formatting.md), not by the browser in its own unnamed zone. Asia/Tokyo has no
    # daylight saving time, so the abbreviation is JST whatever the date of the run.
    engagement = build_engagement(1, 2)
    engagement.time_zone = "Asia/Tokyo"
    engagement.save()
    c = client_for(world.client_manager)
    for url in (f"/engagements/{engagement.pk}/dashboard/", f"/engagements/{engagement.pk}/kpis/kpi_00/"):
        html = c.get(url).text
        assert re.search(r'data-live [^>]*data-updated="\d\d:\d\d:\d\d JST"', html), url
    # The portfolio spans engagements in several zones: it names the site's zone (UTC).
    assert re.search(r'data-live [^>]*data-updated="\d\d:\d\d:\d\d UTC"', c.get("/portfolio/").text)


def test_a_poll_cannot_turn_log_in_into_a_redirect_to_another_site(world: World):
    """The page in HX-Current-URL comes back as ``next``; a path that is another site's address
    (``//evil.example``) must still not be where log-in sends the person."""
    from django.test import Client

    from tests.conftest import PASSWORD

    dashboard = f"/engagements/{world.engagement.pk}/dashboard/"
    poll = Client().get(dashboard, HTTP_HX_CURRENT_URL="http://testserver//evil.example/x", **HTMX)
    login_url = poll["HX-Redirect"]
    # urlunsplit writes that path as ////evil.example/x; either way, a browser would read another host.
    assert login_url.startswith("/accounts/login/?next=//")
    assert login_url.endswith("evil.example/x")
    browser = Client()
    answer = browser.post(login_url, {"username": world.client_manager.user.email, "password": PASSWORD})
    assert answer.status_code == 302
    assert "evil.example" not in answer["Location"]
