"""Personas and helpers shared by the suite.

Personas (after healthchecks' alice/bob/charlie): a client manager, a provider manager and an
outsider of another tenant (another client with its own provider), plus lower roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from pactboard.accounts.middleware import SESSION_KEY
from pactboard.accounts.models import ApiToken, Membership, Organisation, Role, User
from pactboard.accounts.services import api_token_create
from pactboard.engagements.models import Engagement, Objective

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _audit_guard(request):
    """Keep the database guards in place, lifting them only for the flush after transactional tests."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"live_server", "transactional_db"} & set(request.fixturenames)
    )
    if marker is None and not transactional and "db" not in request.fixturenames:
        yield
        return
    from django.db import connection

    from pactboard.core.dbguard import guard_install, guard_remove

    request.getfixturevalue("transactional_db" if transactional else "db")
    guard_install(connection)
    yield
    if transactional:
        guard_remove(connection)


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    """Uploads and datasets of each test go to its own temporary folder, never to ./var."""
    settings.DATA_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "uploads"
    settings.DATASETS_DIR = tmp_path / "datasets"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle counters and cached dashboard fragments live in the caches: each test starts with none.

    Test databases reuse ids and tests fix the clock, so a fragment cached by one test could match
    another's key.
    """
    from django.core.cache import caches

    for cache in caches.all(initialized_only=True):
        cache.clear()
    caches["pages"].clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # Argon2 is deliberately slow; the suite creates many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_member(email: str, org: Organisation, role: str = Role.MANAGER) -> Membership:
    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email=email, password=PASSWORD, full_name=email.split("@")[0].title()
    )
    return Membership.objects.create(user=user, organisation=org, role=role)


def make_engagement(client_org: Organisation, provider_org: Organisation, name: str = "Support") -> Engagement:
    return Engagement.objects.create(
        client=client_org,
        provider=provider_org,
        name=name,
        start_date=date(2026, 1, 1),
        end_date=date(2027, 12, 31),
        currency="EUR",
        monthly_fee=Decimal("100000.00"),
        time_zone="Europe/Berlin",
        status=Engagement.Status.ACTIVE,
    )


@dataclass
class World:
    client_org: Organisation
    provider_org: Organisation
    other_client_org: Organisation
    other_provider_org: Organisation
    client_manager: Membership
    client_viewer: Membership
    provider_manager: Membership
    outsider: Membership  # manager of another client, with its own provider
    other_provider_manager: Membership
    engagement: Engagement
    other_engagement: Engagement
    objective: Objective


@pytest.fixture
def world(db: None) -> World:
    client_org = Organisation.objects.create(name="Acme Retail", slug="acme", kind="client")
    provider_org = Organisation.objects.create(name="Helpline BPO", slug="helpline", kind="provider")
    other_client = Organisation.objects.create(name="Globex", slug="globex", kind="client")
    other_provider = Organisation.objects.create(name="Initech Services", slug="initech", kind="provider")
    engagement = make_engagement(client_org, provider_org, "Acme support")
    other_engagement = make_engagement(other_client, other_provider, "Globex back office")
    objective = Objective.objects.create(
        engagement=engagement, key="fcr", statement="Resolve more issues at first contact", measure="FCR", target="75 %"
    )
    return World(
        client_org=client_org,
        provider_org=provider_org,
        other_client_org=other_client,
        other_provider_org=other_provider,
        client_manager=make_member("carla@acme.example", client_org, Role.MANAGER),
        client_viewer=make_member("victor@acme.example", client_org, Role.VIEWER),
        provider_manager=make_member("pedro@helpline.example", provider_org, Role.MANAGER),
        outsider=make_member("oscar@globex.example", other_client, Role.ADMIN),
        other_provider_manager=make_member("ines@initech.example", other_provider, Role.ADMIN),
        engagement=engagement,
        other_engagement=other_engagement,
        objective=objective,
    )


def client_for(membership: Membership) -> Client:
    """A test client logged in as the membership's user, acting for its organisation."""
    c = Client()
    c.force_login(membership.user)
    session = c.session
    session[SESSION_KEY] = membership.pk
    session.save()
    return c


def api_client(membership: Membership, scope: str = ApiToken.Scope.WRITE) -> Client:
    """A test client of the REST API, with a new token of ``scope`` acting as the membership."""
    _, raw = api_token_create(membership=membership, name="test", scope=scope)
    return Client(headers={"Authorization": f"Bearer {raw}"})
