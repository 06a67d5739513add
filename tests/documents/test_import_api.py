"""`POST /api/documents/import`: the API twin of `pactboard engagement import` (docs/engagement-as-code.md).

Expected figures are read off the demo document customer-support.yaml by hand: engagement "Customer
support (EMEA)" between Northwind Retail and Brightline Support, monthly fee 412500.00 EUR, four
objectives (fcr, phone-speed, csat, cost-to-serve), four KPIs (fcr, service_level, csat, aht), one
dataset (contacts).
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from pactboard.accounts.models import ApiToken, Organisation, Role
from pactboard.audit.models import AuditEvent
from pactboard.engagements.models import Engagement
from pactboard.measurements.models import Dataset
from tests.conftest import api_client, make_member
from tests.documents.conftest import import_counts
from tests.documents.test_document import DEMO_FILES, MINIMAL

pytestmark = pytest.mark.django_db

SUPPORT = next(p for p in DEMO_FILES if p.name == "customer-support.yaml").read_text(encoding="utf-8")
URL = "/api/documents/import"


def _post(client: Client, url: str, text: str):  # type: ignore[no-untyped-def]
    return client.post(url, data=json.dumps({"text": text}), content_type="application/json")


@pytest.fixture
def northwind():  # type: ignore[no-untyped-def]
    client = Organisation.objects.create(name="Northwind Retail", slug="northwind", kind="client")
    provider = Organisation.objects.create(name="Brightline Support", slug="brightline", kind="provider")
    manager = make_member("vera.client@northwind.example", client, Role.MANAGER)
    make_member("paul.provider@brightline.example", provider, Role.MANAGER)
    viewer = make_member("walt@northwind.example", client, Role.VIEWER)
    return manager, viewer


def test_importing_the_demo_document_creates_its_engagement_and_draft(northwind) -> None:  # type: ignore[no-untyped-def]
    manager, _ = northwind
    response = _post(api_client(manager), URL, SUPPORT)
    assert response.status_code == 201, response.content
    body = response.json()
    engagement = Engagement.objects.get(pk=body["engagement_id"])
    assert (engagement.name, engagement.client.name, engagement.provider.name) == (
        "Customer support (EMEA)",
        "Northwind Retail",
        "Brightline Support",
    )
    assert engagement.monthly_fee == Decimal("412500.00")
    assert engagement.currency == "EUR"
    assert sorted(engagement.objectives.values_list("key", flat=True)) == [
        "cost-to-serve",
        "csat",
        "fcr",
        "phone-speed",
    ]
    version = engagement.versions.get()
    assert sorted(version.kpis.values_list("code", flat=True)) == ["aht", "csat", "fcr", "service_level"]
    assert list(Dataset.objects.filter(engagement=engagement).values_list("name", flat=True)) == ["contacts"]
    assert body == {
        "engagement_id": engagement.pk,
        "engagement": "Customer support (EMEA)",
        "client": "Northwind Retail",
        "provider": "Brightline Support",
        "version": 1,
        "version_status": "draft",
        "objectives": 4,
        "kpis": 4,
        "warnings": body["warnings"],
    }
    event = AuditEvent.objects.get(action="engagement.import")
    assert (event.engagement_id, event.actor_email) == (engagement.pk, "vera.client@northwind.example")
    assert event.after["kpis"] == ["fcr", "service_level", "csat", "aht"]


def test_an_invalid_document_is_refused_as_validate_refuses_it_and_nothing_is_written(northwind) -> None:  # type: ignore[no-untyped-def]
    manager, _ = northwind
    api = api_client(manager)
    # The FCR KPI is higher-is-better with target 75: an amber threshold above the target is wrong.
    bad = SUPPORT.replace("    target: 75\n    thresholds: {amber: 70", "    target: 75\n    thresholds: {amber: 90", 1)
    assert bad != SUPPORT
    before = import_counts()
    validated = _post(api, "/api/documents/validate", bad)
    imported = _post(api, URL, bad)
    assert (validated.status_code, imported.status_code) == (422, 422)
    assert imported.json() == validated.json()
    details = imported.json()["details"]
    assert details
    assert all(d["location"].startswith("text.kpis[0]") for d in details), details
    assert import_counts() == before


def test_a_refusal_after_reading_changes_nothing(northwind) -> None:  # type: ignore[no-untyped-def]
    # A viewer may not create the engagement: the service's own refusal, located in the body's text.
    _, viewer = northwind
    api = api_client(viewer)  # creating a token is audited: count after it
    before = import_counts()
    response = _post(api, URL, SUPPORT)
    assert response.status_code == 422, response.content
    assert response.json()["details"] == [
        {
            "message": "only administrators and managers of Northwind Retail can create engagements",
            "location": "text.engagement",
            # The engagement does not exist and this actor may not create it (services._engagement_lookup).
            "code": "cannot_create_engagement",
        }
    ]
    assert import_counts() == before


def test_a_second_import_while_the_draft_is_open_is_a_conflict_and_rolls_back(northwind) -> None:  # type: ignore[no-untyped-def]
    manager, _ = northwind
    api = api_client(manager)
    assert _post(api, URL, SUPPORT).status_code == 201
    before = import_counts()
    # The fee would be written before the open draft refuses the new version.
    response = _post(api, URL, SUPPORT.replace("monthly_fee: 412500.00", "monthly_fee: 1.00"))
    assert response.status_code == 409, response.content
    assert response.json()["details"][0]["location"] == "text.agreement"
    # The open-draft refusal names no detail of its own: its kind is the code (services._prefixed).
    assert response.json()["details"][0]["code"] == "conflict"
    assert import_counts() == before
    assert Engagement.objects.get().monthly_fee == Decimal("412500.00")


def test_a_read_token_is_refused(northwind) -> None:  # type: ignore[no-untyped-def]
    manager, _ = northwind
    api = api_client(manager, ApiToken.Scope.READ)
    before = import_counts()
    response = _post(api, URL, SUPPORT)
    assert response.status_code == 403
    assert "read-only" in response.json()["message"]
    assert import_counts() == before


def test_an_outsider_naming_another_tenants_engagement_is_refused_as_if_it_did_not_exist(world, northwind) -> None:  # type: ignore[no-untyped-def]
    # world.outsider manages Globex; the document names Northwind's engagement, which Globex cannot see,
    # once it exists and once it does not: the same refusal both times, and nothing written.
    manager, _ = northwind
    api = api_client(world.outsider)
    before = import_counts()
    unseen = _post(api, URL, SUPPORT)
    assert _post(api_client(manager), URL, SUPPORT).status_code == 201
    engagement = Engagement.objects.get(name="Customer support (EMEA)")
    before = import_counts()
    refused = _post(api, URL, SUPPORT.replace("monthly_fee: 412500.00", "monthly_fee: 1.00"))
    assert (unseen.status_code, refused.status_code) == (422, 422)
    assert refused.json() == unseen.json()
    detail = refused.json()["details"][0]
    assert detail["location"].startswith("text.engagement.client")
    assert detail["code"] == "cannot_create_engagement"
    assert detail["message"].startswith("no engagement 'Customer support (EMEA)' between Northwind Retail and")
    assert import_counts() == before
    engagement.refresh_from_db()
    assert engagement.monthly_fee == Decimal("412500.00")


def test_each_problem_of_a_refused_document_has_its_location_and_code(northwind) -> None:  # type: ignore[no-untyped-def]
    # Eight problems of the document's own checks (spec/checks.py), all reported at once, each in the body's
    # field text; the code says which problem it is (docs/engagement-as-code.md, "Refusal codes").
    manager, _ = northwind
    api = api_client(manager)
    tickets = (
        "  - name: tickets\n"
        "    time_column: opened_at\n"  # declared by no column below
        "    columns:\n"
        "      - {name: ticket_id, type: text}\n"
        "      - {name: ticket_id, type: timestamp}\n"  # a name twice
        "  - name: contacts\n"  # the name of datasets[0]
        "    standard: contacts\n"
    )
    bad = (
        SUPPORT.replace("objectives:\n  - key: fcr", tickets + "objectives:\n  - key: fcr", 1)
        .replace(
            "    measure: Cost per contact\n", "    measure: Cost per contact\n  - key: csat\n    statement: Again\n"
        )
        .replace("objectives: [fcr]", "objectives: [fcr, fcr]", 1)
        .replace("objectives: [csat]", "objectives: [csat, churn]", 1)
        .replace("  - code: aht\n", "  - code: csat\n", 1)
        .replace("effective_from: 2025-05-01", "effective_from: 2024-05-01", 1)
    )
    before = import_counts()
    response = _post(api, URL, bad)
    assert response.status_code == 422, response.content
    located = [(d["location"], d["code"]) for d in response.json()["details"]]
    assert located == [
        # datasets first, in document order: a name twice among the columns (the word of a file's header, the
        # measurements room), then the time column naming no declared column (new word)
        ("text.datasets[1].columns[1].name", "duplicate_column"),
        ("text.datasets[1].time_column", "unknown_column"),
        # a second dataset named contacts (new word; its own checks are skipped)
        ("text.datasets[2].name", "duplicate_name"),
        # a fifth objective with the key csat (new word)
        ("text.objectives[4].key", "duplicate_key"),
        # kpis[0] links fcr twice (new word); kpis[2] links an objective the document lacks (kpis' word)
        ("text.kpis[0].objectives[1]", "duplicate_objective"),
        ("text.kpis[2].objectives[1]", "unknown_objective"),
        # kpis[3] takes the code csat of kpis[2] (kpis' word for two KPIs with one code)
        ("text.kpis[3].code", "duplicate_code"),
        # 2024-05-01 is before the engagement's start, 2025-05-01 (the word for any date outside the engagement)
        ("text.agreement.effective_from", "date_outside_engagement"),
    ]
    assert import_counts() == before


def test_a_warning_carries_its_code_through_the_api(northwind) -> None:  # type: ignore[no-untyped-def]
    """A warning is a detail as an error is: message, location and code (checks.document_warnings)."""
    manager, _ = northwind
    text = MINIMAL.replace("    source:\n      kind: dataset\n", "")  # a catalogue KPI without source.kind
    checked = _post(api_client(manager), "/api/documents/validate", text)
    assert checked.status_code == 200, checked.content
    assert [(w["location"], w["code"]) for w in checked.json()["warnings"]] == [
        ("kpis[1].source.kind", "source_not_given")
    ]
