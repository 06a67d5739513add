"""KPI pages: catalogue, agreement, draft editor, review, signatures, diff; tenancy, roles, query counts."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pactboard.accounts.models import Membership
from pactboard.core.periods import Period
from pactboard.kpis import negotiation, services
from pactboard.kpis.models import AgreementVersion, Comment, CustomKpi, Signature, VersionKpi
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db
Status = AgreementVersion.Status


def add_kpi(world: World, version: AgreementVersion, code: str, target: str = "300", **overrides) -> VersionKpi:
    """A lower-is-better handle-time KPI with thresholds, a baseline and one milestone."""
    fields = {
        "code": code,
        "name": f"Handle time {code}",
        "category": "operational",
        "unit": "seconds",
        "direction": "lower",
        "period": "month",
        "target": Decimal(target),
        "amber": Decimal(target) + 30,
        "stretch": Decimal(target) - 20,
        "weight": Decimal("1"),
        "baseline_value": Decimal("345.5"),
        "baseline_period": "2025-Q4",
        "baseline_source": "Telephony reports",
        "active": True,
    }
    fields.update(overrides)
    milestones = [services.MilestoneSpec(date=date(2026, 6, 30), target=Decimal(target) + 10)]
    return services.version_kpi_add(
        actor=world.client_manager,
        version=version,
        objective_ids=[world.objective.pk],
        milestones=milestones,
        **fields,
    )


def draft_with(world: World, n: int, prefix: str = "kpi") -> AgreementVersion:
    """A draft (a copy of the version in force, if any) with ``n`` more KPIs coded ``<prefix>_00``..."""
    draft = services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    for i in range(n):
        add_kpi(world, draft, f"{prefix}_{i:02d}")
    return draft


def propose(world: World, version: AgreementVersion, by: Membership | None = None) -> AgreementVersion:
    # From the engagement's start: a second agreement re-scores history, confirmed as retroactive here.
    return negotiation.version_propose(
        actor=by or world.client_manager, version=version, effective_from=world.engagement.start_date, retroactive=True
    )


def agreed_with(world: World, n: int, prefix: str = "kpi") -> AgreementVersion:
    proposed = propose(world, draft_with(world, n, prefix))
    negotiation.version_sign(actor=world.client_manager, version=proposed)
    negotiation.version_sign(actor=world.provider_manager, version=proposed)
    proposed.refresh_from_db()
    assert proposed.status == Status.AGREED
    return proposed


def version_url(name: str, version: AgreementVersion, *extra: int) -> str:
    return reverse(f"kpis:{name}", args=[version.engagement_id, version.pk, *extra])


def kpi_post_data(world: World, **overrides: str) -> dict[str, str]:
    data = {
        "catalogue_code": "",
        "name": "Average handle time",
        "code": "aht",
        "objectives": str(world.objective.pk),
        "category": "operational",
        "unit": "seconds",
        "direction": "lower",
        "definition": "Talk, hold and wrap-up time per handled contact.",
        "period": "month",
        "weight": "2",
        "target": "300",
        "amber": "330",
        "stretch": "280",
        "baseline_value": "345.5",
        "baseline_period": "2025-Q4",
        "baseline_source": "Telephony reports",
        "source": "manual",
        "dataset": "",
        "formula": "",
        "row_filter": "",
        "min_value": "",
        "max_value": "",
        "active": "on",
        "milestones-TOTAL_FORMS": "3",
        "milestones-INITIAL_FORMS": "0",
        "milestones-MIN_NUM_FORMS": "0",
        "milestones-MAX_NUM_FORMS": "24",
        "milestones-0-date": "2026-06-30",
        "milestones-0-target": "320",
        "milestones-1-date": "2026-09-30",
        "milestones-1-target": "310",
    }
    data.update(overrides)
    return data


def kpi_post_data_from(kpi: VersionKpi, **overrides: str) -> dict[str, str]:
    """The edit form's data for a KPI exactly as it is, then ``overrides``."""

    def text(value: object) -> str:
        return "" if value is None else str(value)

    data = {name: text(getattr(kpi, name)) for name in services.KPI_EDITABLE_FIELDS if name != "active"}
    if kpi.active:
        data["active"] = "on"
    data["objectives"] = [str(link.objective_id) for link in kpi.objective_links.all()]  # type: ignore[assignment]
    milestones = list(kpi.milestones.all())
    data.update(
        {
            "milestones-TOTAL_FORMS": str(len(milestones) + 2),
            "milestones-INITIAL_FORMS": str(len(milestones)),
            "milestones-MIN_NUM_FORMS": "0",
            "milestones-MAX_NUM_FORMS": "24",
        }
    )
    for i, m in enumerate(milestones):
        for name in ("date", "target", "amber", "stretch", "note"):
            data[f"milestones-{i}-{name}"] = text(getattr(m, name))
    data.update(overrides)
    return data


# --- tenancy -------------------------------------------------------------------------------------


def _urls(world: World) -> list[tuple[str, str]]:
    draft = draft_with(world, 1)
    kpi = draft.kpis.get()
    e = world.engagement.pk
    return [
        ("get", reverse("kpis:agreement", args=[e])),
        ("post", reverse("kpis:draft_start", args=[e])),
        ("get", reverse("kpis:compare", args=[e]) + f"?a={draft.pk}&b={draft.pk}"),
        ("get", version_url("version", draft)),
        ("get", version_url("kpi_create", draft)),
        ("post", version_url("kpi_create", draft)),
        ("get", version_url("kpi_edit", draft, kpi.pk)),
        ("post", version_url("kpi_edit", draft, kpi.pk)),
        ("post", version_url("kpi_remove", draft, kpi.pk)),
        ("post", version_url("propose", draft)),
        ("post", version_url("comment", draft)),
        ("post", version_url("sign", draft)),
        ("post", version_url("counter_propose", draft)),
        ("post", version_url("withdraw", draft)),
    ]


def test_outsider_gets_404_on_every_agreement_page_and_action(world: World):
    outsider = client_for(world.outsider)
    for method, url in _urls(world):
        response = getattr(outsider, method)(url)
        assert response.status_code == 404, (method, url)
    draft = AgreementVersion.objects.get(engagement=world.engagement)
    assert draft.status == Status.DRAFT
    assert draft.kpis.count() == 1
    assert not Comment.objects.exists()


def test_a_version_of_another_engagement_is_404_under_this_engagement(world: World):
    draft = draft_with(world, 1)
    url = reverse("kpis:version", args=[world.other_engagement.pk, draft.pk])
    assert client_for(world.client_manager).get(url).status_code == 404


def test_outsider_cannot_see_another_tenants_custom_kpis(world: World):
    CustomKpi.objects.create(
        organisation=world.client_org,
        code="refund_rate",
        name="Refund rate",
        category="quality",
        unit="%",
        direction="lower",
        definition="Refunds per order.",
    )
    assert "Refund rate" in client_for(world.client_manager).get(reverse("kpis:catalogue")).text
    assert "Refund rate" not in client_for(world.outsider).get(reverse("kpis:catalogue")).text


def test_awaiting_page_lists_only_own_engagements(world: World):
    propose(world, draft_with(world, 1))
    assert "Acme support" in client_for(world.provider_manager).get(reverse("kpis:awaiting")).text
    outsider_page = client_for(world.outsider).get(reverse("kpis:awaiting"))
    assert outsider_page.status_code == 200
    assert "Acme support" not in outsider_page.text


def test_login_required(client: Client, world: World):
    response = client.get(reverse("kpis:agreement", args=[world.engagement.pk]))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def _kpi_blocks(html: str) -> list[str]:
    blocks = re.findall(r'<article class="kpi-row".*?</article>', html, flags=re.S)
    return [re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", b) for b in blocks]


def test_client_and_provider_see_the_same_version_content(world: World):
    proposed = propose(world, draft_with(world, 3))
    negotiation.version_comment(actor=world.provider_manager, version=proposed, body="Too tight", kpi_code="kpi_01")
    url = version_url("version", proposed)
    client_page = client_for(world.client_manager).get(url).text
    provider_page = client_for(world.provider_manager).get(url).text
    client_blocks, provider_blocks = _kpi_blocks(client_page), _kpi_blocks(provider_page)
    assert len(client_blocks) == 3
    assert client_blocks == provider_blocks
    assert proposed.content_hash in client_page
    assert proposed.content_hash in provider_page


# --- query counts --------------------------------------------------------------------------------


def _queries(django_assert_max_num_queries, c: Client, url: str, limit: int = 40) -> int:
    with django_assert_max_num_queries(limit) as captured:
        response = c.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("page", ["agreement", "version", "compare", "awaiting"])
def test_query_count_does_not_grow_with_kpis(world: World, django_assert_max_num_queries, page: str):
    counts = []
    # The second round's versions copy the first round's KPIs: 3, then 18 KPIs.
    for n, prefix in ((3, "a"), (15, "b")):
        first = agreed_with(world, n, prefix)
        second = propose(world, services.version_draft_start(actor=world.client_manager, engagement=world.engagement))
        negotiation.version_comment(actor=world.provider_manager, version=second, body="ok", kpi_code=f"{prefix}_00")
        url = {
            "agreement": reverse("kpis:agreement", args=[world.engagement.pk]),
            "version": version_url("version", second),
            "compare": reverse("kpis:compare", args=[world.engagement.pk]) + f"?a={first.pk}&b={second.pk}",
            "awaiting": reverse("kpis:awaiting"),
        }[page]
        counts.append(_queries(django_assert_max_num_queries, client_for(world.provider_manager), url))
        negotiation.version_withdraw(actor=world.client_manager, version=second)
    assert counts[1] <= counts[0], counts


def test_kpi_editor_query_count_does_not_grow_with_kpis(world: World, django_assert_max_num_queries):
    counts = []
    for n in (3, 15):
        AgreementVersion.objects.filter(engagement=world.engagement, status=Status.DRAFT).delete()
        draft = draft_with(world, n)
        kpi = draft.kpis.first()
        c = client_for(world.client_manager)
        counts.append(_queries(django_assert_max_num_queries, c, version_url("kpi_edit", draft, kpi.pk)))
    assert counts[1] <= counts[0], counts


def test_catalogue_query_count_does_not_grow_with_custom_kpis(world: World, django_assert_max_num_queries):
    c = client_for(world.client_manager)
    few = _queries(django_assert_max_num_queries, c, reverse("kpis:catalogue"))
    for i in range(12):
        CustomKpi.objects.create(
            organisation=world.client_org,
            code=f"custom_{i}",
            name=f"Custom {i}",
            category="quality",
            unit="%",
            direction="higher",
            definition="x",
        )
    assert _queries(django_assert_max_num_queries, c, reverse("kpis:catalogue")) <= few


# --- catalogue -----------------------------------------------------------------------------------


def test_catalogue_lists_standard_kpis_with_definitions_and_formulas(world: World):
    page = client_for(world.provider_manager).get(reverse("kpis:catalogue")).text
    assert "First-contact resolution" in page or "First contact resolution" in page
    assert "Net Promoter Score" in page or "NPS" in page
    assert page.count('data-testid="catalogue-entry"') >= 12
    assert "Formula" in page
    assert "Source" in page


def test_catalogue_search_is_an_htmx_partial_on_the_same_url(world: World):
    c = client_for(world.client_manager)
    full = c.get(reverse("kpis:catalogue"), {"q": "handle"})
    assert "<html" in full.text
    partial = c.get(reverse("kpis:catalogue"), {"q": "handle"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.text
    assert "Average handle time" in partial.text
    assert "Net Promoter" not in partial.text


def test_manager_adds_custom_kpi_and_a_taken_code_is_refused_at_the_field(world: World):
    c = client_for(world.client_manager)
    data = {
        "code": "refund_rate",
        "name": "Refund rate",
        "category": "quality",
        "unit": "%",
        "direction": "lower",
        "definition": "Refunded orders as a share of all orders.",
        "default_period": "month",
    }
    response = c.post(reverse("kpis:custom_create"), data)
    assert response.status_code == 302
    assert CustomKpi.objects.filter(organisation=world.client_org, code="refund_rate").exists()
    again = c.post(reverse("kpis:custom_create"), {**data, "name": "Other"})
    assert again.status_code == 422
    assert 'id="id_code_error"' in again.text
    assert "is taken" in again.text
    standard = c.post(reverse("kpis:custom_create"), {**data, "code": "csat"})
    assert standard.status_code == 422
    assert CustomKpi.objects.count() == 1


def test_viewer_cannot_add_custom_kpis_or_draft(world: World):
    viewer = client_for(world.client_viewer)
    assert viewer.get(reverse("kpis:custom_create")).status_code == 403
    draft = draft_with(world, 1)
    assert viewer.get(version_url("kpi_create", draft)).status_code == 403
    assert viewer.post(reverse("kpis:draft_start", args=[world.engagement.pk])).status_code == 403
    page = viewer.get(version_url("version", draft)).text
    assert "Add KPI" not in page


# --- agreement page and draft editor -------------------------------------------------------------


def test_agreement_page_without_versions_offers_a_draft_and_shows_the_profile(world: World):
    from pactboard.engagements.models import ProviderProfile

    ProviderProfile.objects.create(organisation=world.provider_org, certifications="COPC CX Standard")
    response = client_for(world.client_manager).get(reverse("kpis:agreement", args=[world.engagement.pk]))
    assert response.status_code == 200
    assert "No agreement is in force yet" in response.text
    assert "Start a new draft" in response.text
    assert "COPC CX Standard" in response.text


def test_engagement_page_links_to_the_agreement(world: World):
    page = client_for(world.provider_manager).get(reverse("engagements:detail", args=[world.engagement.pk])).text
    assert reverse("kpis:agreement", args=[world.engagement.pk]) in page


def test_start_draft_then_add_kpi_with_milestones(world: World):
    c = client_for(world.provider_manager)
    response = c.post(reverse("kpis:draft_start", args=[world.engagement.pk]), {"draft-note": "First set"})
    draft = AgreementVersion.objects.get(engagement=world.engagement)
    assert response["Location"] == version_url("version", draft)
    assert draft.note == "First set"
    response = c.post(version_url("kpi_create", draft), kpi_post_data(world))
    assert response.status_code == 302, response.text
    kpi = draft.kpis.get()
    assert kpi.target == Decimal("300")
    assert [m.date for m in kpi.milestones.all()] == [date(2026, 6, 30), date(2026, 9, 30)]
    assert list(kpi.objective_links.values_list("objective_id", flat=True)) == [world.objective.pk]
    assert kpi.baseline_source == "Telephony reports"


def test_second_draft_is_refused_with_a_message(world: World):
    draft_with(world, 0)
    response = client_for(world.client_manager).post(reverse("kpis:draft_start", args=[world.engagement.pk]))
    assert response.status_code == 302
    follow = client_for(world.client_manager).get(response["Location"])
    assert follow.status_code == 200
    assert AgreementVersion.objects.filter(engagement=world.engagement).count() == 1


def test_add_kpi_form_is_prefilled_from_the_catalogue(world: World):
    draft = draft_with(world, 0)
    page = client_for(world.client_manager).get(version_url("kpi_create", draft), {"from": "average_handle_time"})
    assert page.status_code == 200
    assert 'value="average_handle_time"' in page.text  # code and hidden catalogue_code
    assert "Average handle time" in page.text


def test_kpi_errors_are_shown_at_their_fields_all_at_once(world: World):
    draft = draft_with(world, 0)
    data = kpi_post_data(world, amber="290", **{"milestones-1-date": "2031-01-01"})
    data.pop("objectives")
    response = client_for(world.client_manager).post(version_url("kpi_create", draft), data)
    assert response.status_code == 422
    # "thresholds.amber" and "milestones[1].date" from the service land at their inputs.
    assert re.search(r'id="id_amber_error"[^>]*>must be above the target', response.text)
    assert re.search(r'id="id_milestones-1-date_error"[^>]*>must fall within the engagement', response.text)
    assert re.search(r'id="id_objectives_error"[^>]*>Link the KPI to at least one objective', response.text)
    assert not draft.kpis.exists()


def test_missing_objective_alone_is_refused_by_the_service(world: World):
    draft = draft_with(world, 0)
    data = kpi_post_data(world)
    data.pop("objectives")
    response = client_for(world.client_manager).post(version_url("kpi_create", draft), data)
    assert response.status_code == 422
    assert response.text.count("Link the KPI to at least one objective.") == 1
    assert not draft.kpis.exists()


def test_edit_and_remove_kpi_of_a_draft(world: World):
    draft = draft_with(world, 2)
    kpi = draft.kpis.get(code="kpi_00")
    c = client_for(world.provider_manager)
    data = kpi_post_data(
        world,
        code="kpi_00",
        target="290",
        amber="320",
        stretch="270",
        **{
            "milestones-INITIAL_FORMS": "1",
            "milestones-0-date": "2026-06-30",
            "milestones-0-target": "300",
            "milestones-1-date": "",
            "milestones-1-target": "",
        },
    )
    response = c.post(version_url("kpi_edit", draft, kpi.pk), data)
    assert response.status_code == 302, response.text
    kpi.refresh_from_db()
    assert kpi.target == Decimal("290")
    assert [m.target for m in kpi.milestones.all()] == [Decimal("300")]
    data["milestones-0-DELETE"] = "on"
    assert c.post(version_url("kpi_edit", draft, kpi.pk), data).status_code == 302
    assert not kpi.milestones.exists()
    assert c.post(version_url("kpi_remove", draft, kpi.pk)).status_code == 302
    assert list(draft.kpis.values_list("code", flat=True)) == ["kpi_01"]


def test_too_many_kpis_is_a_warning_not_a_refusal(world: World):
    draft = draft_with(world, 9)
    page = client_for(world.client_manager).get(version_url("version", draft)).text
    assert 'data-testid="kpi-count-warning"' in page
    assert "9 active KPIs" in page
    response = client_for(world.client_manager).post(version_url("kpi_create", draft), kpi_post_data(world))
    assert response.status_code == 302
    assert draft.kpis.count() == 10


# --- review, signatures, diff --------------------------------------------------------------------


def test_full_review_cycle_through_the_pages(world: World):
    carla, pedro = client_for(world.client_manager), client_for(world.provider_manager)
    draft = draft_with(world, 2)
    response = carla.post(version_url("propose", draft), {"propose-effective_from": "2026-02-01", "propose-note": "v1"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.PROPOSED

    assert "Review and sign version 1" in pedro.get(reverse("kpis:awaiting")).text
    response = pedro.post(version_url("comment", draft), {"kpi_code": "kpi_00", "body": "300 s is tight for Q1."})
    assert response["Location"].endswith("#kpi-kpi_00")
    page = pedro.get(version_url("version", draft)).text
    block = next(b for b in _kpi_blocks(page) if 'data-code="kpi_00"' in b)
    assert "300 s is tight for Q1." in block

    response = pedro.post(version_url("counter_propose", draft), {"counter-note": "Looser AHT"})
    counter = AgreementVersion.objects.get(engagement=world.engagement, number=2)
    assert response["Location"] == version_url("version", counter)
    draft.refresh_from_db()
    assert draft.status == Status.SUPERSEDED
    kpi = counter.kpis.get(code="kpi_00")
    edit = pedro.post(version_url("kpi_edit", counter, kpi.pk), kpi_post_data_from(kpi, target="290"))
    assert edit.status_code == 302, edit.text
    # The propose form suggests the start of the next period (month) in the engagement's zone, not the date
    # of the version it is based on (which would re-score every period since).
    next_month = Period.containing("month", timezone.now().astimezone(ZoneInfo("Europe/Berlin")).date()).next()
    assert f'value="{next_month.start.isoformat()}"' in pedro.get(version_url("version", counter)).text
    pedro.post(version_url("propose", counter), {"propose-effective_from": "2026-02-01"})
    assert pedro.post(version_url("sign", counter)).status_code == 302
    counter.refresh_from_db()
    assert counter.status == Status.PROPOSED
    page = carla.get(version_url("version", counter)).text
    assert "Helpline BPO" in page
    assert "Remaining: Acme Retail's signature." in page
    carla.post(version_url("sign", counter))
    counter.refresh_from_db()
    assert counter.status == Status.AGREED
    assert set(Signature.objects.filter(version=counter).values_list("content_hash", flat=True)) == {
        counter.content_hash
    }
    agreement_page = carla.get(reverse("kpis:agreement", args=[world.engagement.pk])).text
    assert "In force: version 2" in agreement_page
    assert counter.content_hash in agreement_page

    diff = carla.get(reverse("kpis:compare", args=[world.engagement.pk]), {"a": draft.pk, "b": counter.pk}).text
    rows = re.findall(r'<tr data-testid="diff-change">(.*?)</tr>', diff, flags=re.S)
    assert len(rows) == 1
    assert re.search(r"kpi_00.*Target.*<del>300</del>.*<ins>290</ins>", rows[0], flags=re.S)
    assert 'data-testid="diff-setting"' not in diff


def test_proposer_withdraws_and_the_other_party_cannot(world: World):
    proposed = propose(world, draft_with(world, 1))
    pedro = client_for(world.provider_manager)
    assert pedro.post(version_url("withdraw", proposed)).status_code == 403
    response = client_for(world.client_manager).post(version_url("withdraw", proposed))
    assert response["Location"] == reverse("kpis:agreement", args=[world.engagement.pk])
    proposed.refresh_from_db()
    assert proposed.status == Status.WITHDRAWN


def test_signing_twice_gives_a_message_not_a_crash(world: World):
    proposed = propose(world, draft_with(world, 1))
    carla = client_for(world.client_manager)
    carla.post(version_url("sign", proposed))
    response = carla.post(version_url("sign", proposed), follow=True)
    assert "has already signed" in response.text
    assert Signature.objects.filter(version=proposed).count() == 1


def test_propose_errors_show_at_the_date_field(world: World):
    draft = draft_with(world, 1)
    response = client_for(world.client_manager).post(
        version_url("propose", draft), {"propose-effective_from": "2031-01-01"}
    )
    assert response.status_code == 422
    assert 'id="id_propose-effective_from_error"' in response.text
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_empty_comment_is_refused_beside_its_kpi(world: World):
    proposed = propose(world, draft_with(world, 1))
    response = client_for(world.provider_manager).post(
        version_url("comment", proposed), {"kpi_code": "kpi_00", "body": "  "}
    )
    assert response.status_code == 422
    assert 'id="comment-kpi_00_error"' in response.text
    assert not Comment.objects.exists()


# --- a signed version never changes --------------------------------------------------------------


def test_signed_version_cannot_change_through_the_forms(world: World):
    agreed = agreed_with(world, 2)
    kpi = agreed.kpis.get(code="kpi_00")
    carla = client_for(world.client_manager)
    response = carla.post(version_url("kpi_edit", agreed, kpi.pk), kpi_post_data(world, code="kpi_00", target="1"))
    assert response.status_code == 409
    assert "Version 1 is agreed and can no longer change: start a new draft based on it." in response.text
    assert "Nothing was changed" in response.text
    kpi.refresh_from_db()
    assert kpi.target == Decimal("300")
    assert carla.post(version_url("kpi_remove", agreed, kpi.pk)).status_code == 409
    assert carla.post(version_url("kpi_create", agreed), kpi_post_data(world, code="new")).status_code == 409
    assert agreed.kpis.count() == 2
    assert carla.get(version_url("kpi_edit", agreed, kpi.pk)).status_code == 409
    page = carla.get(version_url("version", agreed)).text
    assert "Edit<span" not in page
    assert "Add KPI" not in page


def test_compare_serves_the_page_and_its_htmx_partial(world: World):
    first = agreed_with(world, 1)
    second = draft_with(world, 1, prefix="extra")
    c = client_for(world.provider_manager)
    url = reverse("kpis:compare", args=[world.engagement.pk])
    full = c.get(url, {"a": first.pk, "b": second.pk})
    assert "<html" in full.text
    partial = c.get(url, {"a": first.pk, "b": second.pk}, headers={"HX-Request": "true"})
    assert "<html" not in partial.text
    assert 'id="diff"' in partial.text
    assert re.search(r'data-testid="diff-added">\s*<li><code>extra_00</code>', partial.text)
    # A version of another tenant's engagement is not among the choices.
    foreign = services.version_draft_start(actor=world.outsider, engagement=world.other_engagement)
    bad = c.get(url, {"a": first.pk, "b": foreign.pk})
    assert bad.status_code == 422
    assert 'data-testid="diff"' not in bad.text
