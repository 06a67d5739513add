"""Generated safety test: every route, web and API, is a 404 for an outsider of another tenant.

The URL patterns are walked from Django's resolver and the API operations from the OpenAPI
document, so a route added tomorrow is covered without anyone listing it here. Each route's
keyword arguments are filled with the ids of one tenant's objects (FILLERS); the outsider, a
logged-in admin (and an API token) of another client, must get a 404 for every method the route
accepts. Routes that are not scoped to a tenant are in ALLOWED, each with why.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from django.utils import timezone

from pactboard.accounts.services import api_token_create, invitation_create
from pactboard.api.main import api
from pactboard.core.periods import Period
from pactboard.engagements import services as engagement_services
from pactboard.governance import collaboration, relevance
from pactboard.governance import services as governance_services
from pactboard.governance import webhooks as governance_webhooks
from pactboard.governance.models import Notification
from pactboard.incentives import services as incentive_services
from pactboard.kpis import negotiation as kpi_negotiation
from pactboard.kpis import services as kpi_services
from pactboard.kpis.models import AgreementVersion
from pactboard.measurements.models import Measurement
from pactboard.reports import services as report_services
from tests.conftest import World, client_for
from tests.incentives.conftest import qa_scheme
from tests.measurements.conftest import agreed  # noqa: F401 - a fixture, used by name
from tests.measurements.test_datasets import OCTOBER, _write
from tests.measurements.test_views import _contacts, _record, _upload_contacts

pytestmark = pytest.mark.django_db

# Routes (by URL name) that are not about one tenant's objects, so a 404 would be wrong.
ALLOWED = {
    "home": "redirects to log-in or to the user's own list",
    "favicon.ico": "a static icon",
    "accounts:login": "log-in page",
    "accounts:logout": "log-out",
    "accounts:switch": "switches among the user's own memberships only",
    "accounts:members": "members of the user's own organisation",
    "accounts:api_tokens": "the user's own tokens",
    "accounts:organisation_tokens": "tokens of the actor's own organisation, for its administrators",
    "accounts:invitation_accept": "the one-time token is the secret; an unknown one is refused alike",
    "accounts:password_reset": "password reset by e-mail (Django's)",
    "accounts:password_reset_done": "static notice",
    "accounts:password_reset_confirm": "the signed token is the secret (Django's)",
    "accounts:password_reset_complete": "static notice",
    "engagements:list": "lists only the actor's engagements",
    "engagements:create": "creates one for the actor's own organisation",
    "engagements:profile_edit": "the actor's own provider profile",
    "kpis:catalogue": "the standard catalogue and the actor's own custom KPIs",
    "kpis:custom_create": "a custom KPI of the actor's own organisation",
    "kpis:awaiting": "versions awaiting the actor's own signature",
    "dashboards:portfolio": "the actor's own engagements",
    "engagement_schema": "the published JSON Schema of engagement documents",
    "api:openapi-json": "the OpenAPI document",
    "api:openapi-view": "the interactive API docs",
    "api:api-root": "no operation",
    "api:list_engagements": "lists only the actor's engagements",
    "api:kpi_catalogue": "the standard catalogue and the actor's own custom KPIs",
    "governance:actions": "open actions of the actor's own organisation",
    "governance:notifications": "the actor's own notifications",
    "governance:notifications_badge": "the actor's own unread count",
    "governance:notifications_read_all": "marks the actor's own notifications read",
    "governance:unsubscribe": "the signed token is the secret; a bad one is refused alike",
    "governance:preferences": "the actor's own e-mail preferences",
    "api:get_preferences": "the actor's own e-mail preferences",
    "api:set_preferences": "the actor's own e-mail preferences",
    "api:list_my_actions": "open actions of the actor's own organisation",
    "api:list_notifications": "the actor's own notifications",
    "api:create_engagement": "creates one for the actor's own organisation",
    "api:document_validate": "checks the document sent; reads no stored data",
    "api:document_diff_view": "compares the two documents sent; reads no stored data",
    "api:document_import": "finds the document's engagement among the actor's own (tests/documents/test_import_api.py)",
    "api:portfolio": "the actor's own engagements (tests/dashboards/test_portfolio_api.py)",
    "api:organisation_show": "the actor's own organisation",
    "api:organisation_member_list": "members of the actor's own organisation",
    "api:organisation_invitation_list": "pending invitations of the actor's own organisation",
    "api:organisation_invitation_create": "invites into the actor's own organisation",
}
# Django's admin has its own staff-only permission model.
SKIPPED_NAMESPACES = ("admin:",)


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str, list[str]]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace + (f"{p.namespace}:" if p.namespace else "")
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            converters = p.pattern.converters if isinstance(p.pattern, RoutePattern) else {}
            yield route, namespace + (p.name or route), list(converters)


@pytest.fixture
def victim(world: World, agreed: AgreementVersion, tmp_path) -> dict[str, Any]:  # noqa: F811
    """One tenant's objects of every kind a route names, by the route's keyword argument."""
    _record(world, "qa_score", "2026-10", "91")
    dataset = _contacts(world)
    batch = _upload_contacts(world, dataset, _write(tmp_path / "oct.csv", OCTOBER))
    computed = Measurement.objects.get(kpi_code="first_contact_resolution", period_start="2026-10-01")
    # An agreed incentive scheme (v2, from January) and a settlement of March under it.
    schemed = kpi_services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    incentive_services.version_scheme_set(actor=world.client_manager, version=schemed, scheme=qa_scheme())
    schemed = kpi_negotiation.version_propose(
        actor=world.client_manager, version=schemed, effective_from=date(2026, 1, 1), retroactive=True
    )
    kpi_negotiation.version_sign(actor=world.client_manager, version=schemed)
    kpi_negotiation.version_sign(actor=world.provider_manager, version=schemed)
    _record(world, "qa_score", "2026-03", "88")
    settlement = incentive_services.settlement_draft(
        actor=world.client_manager, engagement=world.engagement, period="2026-03"
    )
    draft = kpi_services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    token, _ = api_token_create(membership=world.client_manager, name="victim's")
    now = timezone.now()
    meeting = governance_services.meeting_create(
        actor=world.client_manager,
        engagement=world.engagement,
        title="Monthly review",
        starts_at=now + timedelta(days=7),
    )
    # Open, so the reassign routes (page and API) get past every other check to tenancy's.
    action = governance_services.action_create(
        actor=world.provider_manager,
        engagement=world.engagement,
        title="Send the QA backlog plan",
        owner_id=world.client_manager.pk,
        due_date=(now + timedelta(days=14)).date(),
        now=now,
        meeting=meeting,
    )
    thread = governance_services.feedback_thread_start(
        actor=world.client_manager,
        engagement=world.engagement,
        kpi_code="qa_score",
        period=Period.parse("2026-10"),
        title="",
        body="Why did QA dip?",
        now=now,
    )
    # A KPI relevance review of the agreement in force.
    relevance_review, _ = relevance.relevance_review_open(
        actor=world.client_manager, engagement=world.engagement, now=now
    )
    # The action's owner is notified: the client manager's own notification, which no one else may read.
    notification = Notification.objects.filter(recipient=world.client_manager).first()
    assert notification is not None
    webhook = governance_webhooks.webhook_create(
        actor=world.client_manager, engagement=world.engagement, url="https://hooks.example.com/victim", now=now
    )
    # Collaboration: a draft strategy note (the client's only) and a knowledge-base article.
    note = collaboration.note_create(
        actor=world.client_manager, engagement=world.engagement, title="Plan", body="Grow", share=False, now=now
    )
    article = collaboration.article_create(
        actor=world.provider_manager, engagement=world.engagement, kind="lesson", title="Peak", body="Plan", tags="peak"
    )
    recipient = report_services.report_recipient_add(
        actor=world.client_manager, engagement=world.engagement, membership_id=world.client_viewer.pk
    )
    # People admin: a pending invitation of the client, and the provider's capability profile.
    invitation, _ = invitation_create(
        actor=None, organisation=world.client_org, email="newbie@acme.example", role="viewer"
    )
    engagement_services.provider_profile_update(actor=world.provider_manager, summary="Multilingual support")
    return {
        "pk": world.engagement.pk,
        "member_id": world.client_viewer.pk,
        "invitation_id": invitation.pk,
        "org_id": world.provider_org.pk,
        "engagement_id": world.engagement.pk,
        "objective_id": world.objective.pk,
        "version_id": draft.pk,
        "other_id": agreed.pk,
        "kpi_id": draft.kpis.get(code="qa_score").pk,
        "code": "qa_score",
        "batch_id": batch.pk,
        "dataset_id": dataset.pk,
        "name": dataset.name,
        "measurement_id": computed.pk,
        "token_id": token.pk,
        "meeting_id": meeting.pk,
        "action_id": action.pk,
        "thread_id": thread.pk,
        "notification_id": notification.pk,
        "webhook_id": webhook.pk,
        "note_id": note.pk,
        "article_id": article.pk,
        "settlement_id": settlement.pk,
        "period": "2026-03",
        "action": "approve",
        "fmt": "csv",
        "review_id": relevance_review.pk,
        "item_id": relevance_review.items.first().pk,
        "recipient_id": recipient.pk,
    }


def _fill(route: str, names: list[str], victim: dict[str, Any]) -> str:
    missing = [n for n in names if n not in victim]
    assert not missing, f"{route}: add an object of another tenant for {missing} to the victim fixture"
    url = "/" + route
    for name in names:
        url = url.replace(f"<{name}>", str(victim[name])).replace(f"{{{name}}}", str(victim[name]))
        for converter in ("int", "str", "slug", "path", "uuid"):
            url = url.replace(f"<{converter}:{name}>", str(victim[name]))
    return url


def test_every_web_route_is_a_404_for_an_outsider(world: World, victim):
    outsider, insider = client_for(world.outsider), client_for(world.client_manager)
    leaks, checked = [], 0
    for route, name, kwargs in _walk(get_resolver().url_patterns):
        if name.startswith(SKIPPED_NAMESPACES) or name.startswith("api:") or name in ALLOWED:
            continue
        url = _fill(route, kwargs, victim)
        statuses = {method: getattr(outsider, method)(url, {}).status_code for method in ("get", "post")}
        # A 405 says only which methods the route takes, the same for every id; at least one must be a 404.
        if set(statuses.values()) - {404, 405} or 404 not in statuses.values():
            leaks.append((name, url, statuses))
        checked += 1
        # The ids are real: a party of the engagement is not turned away (so the 404 above is tenancy's).
        if statuses["get"] == 404:
            assert insider.get(url).status_code != 404, f"{name}: {url} is a 404 for a party too"
    assert not leaks, leaks
    assert checked >= 30


def _example(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """A small value the schema accepts, so that an operation gets past validation to its tenancy check."""
    if "$ref" in schema:
        return _example(components[schema["$ref"].rsplit("/", 1)[1]], components)
    if "anyOf" in schema:
        return _example(next(s for s in schema["anyOf"] if s.get("type") != "null"), components)
    kind = schema.get("type")
    if kind == "object":
        return {k: _example(schema["properties"][k], components) for k in schema.get("required", [])}
    if kind == "array":
        return [_example(schema["items"], components)] if schema.get("minItems") else []
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return False
    return {"date": "2026-10-31", "date-time": "2026-10-31T00:00:00Z"}.get(schema.get("format", ""), "x")


def test_every_api_operation_is_a_404_for_an_outsider(world: World, victim):
    _, raw = api_token_create(membership=world.outsider, name="outsider")
    outsider = Client(headers={"Authorization": f"Bearer {raw}"})
    _, raw = api_token_create(membership=world.client_manager, name="insider")
    insider = Client(headers={"Authorization": f"Bearer {raw}"})
    document = api.get_openapi_schema()
    components = document.get("components", {}).get("schemas", {})
    leaks, checked = [], 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            name = f"api:{operation['operationId'].rsplit('_api_', 1)[-1]}"
            # operationIds read "<module path>_<function>": match the function's name at the end.
            if any(
                name.split(":", 1)[1].endswith(allowed.split(":")[1])
                for allowed in ALLOWED
                if allowed.startswith("api:")
            ):
                continue
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            url = _fill(path.lstrip("/"), names, victim)
            query = {
                p["name"]: _example(p["schema"], components)
                for p in operation.get("parameters", [])
                if p["in"] == "query" and p.get("required")
            }
            if query:
                url += "?" + urlencode(query)
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body = _example(content["application/json"]["schema"], components)
                response = getattr(outsider, method)(url, body, content_type="application/json")
            elif "multipart/form-data" in content:
                schema = content["multipart/form-data"]["schema"]
                fields = schema.get("required", [])
                files = {f: SimpleUploadedFile("x.csv", b"kpi,period,value\n") for f in fields}
                response = getattr(outsider, method)(url, files)
            else:
                response = getattr(outsider, method)(url)
            if response.status_code != 404:
                leaks.append((method.upper(), url, response.status_code, response.content[:200]))
            checked += 1
            if method == "get":
                # The ids are real: a party of the engagement is not turned away (so the 404 above is tenancy's).
                assert insider.get(url).status_code != 404, f"{url} is a 404 for a party too"
    assert not leaks, leaks
    assert checked >= 15


def test_the_alert_settings_and_reassign_routes_are_walked(world: World, victim):
    """The walks above reach these routes (by URL name and OpenAPI path) with the victim's ids."""
    names = {name for _, name, _ in _walk(get_resolver().url_patterns)}
    assert {"governance:alerts", "governance:alert_settings", "governance:action_reassign"} <= names
    paths = api.get_openapi_schema()["paths"]
    assert {"get", "patch"} <= set(paths["/api/engagements/{engagement_id}/alert-settings"])
    assert "post" in paths["/api/engagements/{engagement_id}/actions/{action_id}/reassign"]
    outsider = client_for(world.outsider)
    url = f"/engagements/{victim['pk']}/actions/{victim['action_id']}/reassign/"
    assert outsider.post(url, {"owner_membership_id": world.outsider.pk}).status_code == 404
