"""schemathesis against the API, in process, on a seeded tenant: no 5xx, and every answer is documented.

Every operation of the OpenAPI document gets generated requests, valid ones (positive) and ones the schema
refuses (negative), sent with a bearer token of the client manager of an engagement that has everything
the routes name (the outside walk's victim: KPIs agreed, values, a dataset and an import, a settlement, a
report, meetings, actions, threads, webhooks, notes, ...). Path parameters are those real objects, so the
requests reach the code behind the tenancy check. For each answer:

- ``not_a_server_error``: no 5xx;
- ``status_code_conformance``: its status is one the operation documents;
- ``content_type_conformance``: its content type is one the operation documents for that status;
- ``response_schema_conformance``: its body matches the documented schema.

Bounded for CI (docs/api.md has the figures): a few examples per operation and mode, derandomized (the
same cases on every run), no shrinking, no example database.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pactboard.accounts.services import api_token_create
from tests.conftest import World
from tests.measurements.conftest import agreed  # noqa: F401 - a fixture, used by name
from tests.test_outsider_walk import victim  # noqa: F401 - a fixture, used by name

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 8}


@pytest.fixture
def wsgi_app(settings):
    """Django's WSGI app, in the test's own transaction (as the test client does, the connection stays open)."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_every_operation_answers_as_documented(world: World, victim: dict[str, Any], wsgi_app):  # noqa: F811
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", wsgi_app)
    _, raw = api_token_create(membership=world.client_manager, name="fuzz")
    auth = {"Authorization": f"Bearer {raw}"}
    failures: list[str] = []
    operations = cases = 0
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        names = [p.name for p in operation.path_parameters]
        fixed = {name: victim[name] for name in names}
        for mode, examples in EXAMPLES.items():
            # Valid requests carry the token; invalid ones may also be sent with a broken or missing one.
            fixed_headers = auth if mode is GenerationMode.POSITIVE else None

            @settings(
                max_examples=examples,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed, headers=fixed_headers))
            def check(case: schemathesis.Case) -> None:
                nonlocal cases
                cases += 1
                case.call_and_validate(headers=auth, checks=CHECKS)

            try:
                check()
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} ({mode.value}): {str(exc)[:1500]}")
    elapsed = time.monotonic() - started
    print(f"schemathesis: {operations} operations, {cases} cases, {elapsed:.0f} s")
    assert not failures, "\n\n".join(failures)
    assert operations >= 80  # a schema that lost its operations would pass with none
