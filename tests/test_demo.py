"""The demo loads through the services, twice harmlessly, with the right visibility."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from pactboard.accounts.models import Membership
from pactboard.audit.selectors import audit_verify
from pactboard.demo.load import DEMO_PASSWORD
from pactboard.engagements.models import Engagement
from pactboard.engagements.selectors import engagement_list

pytestmark = pytest.mark.django_db


def test_demo_loads_once_and_is_harmless_twice():
    out = io.StringIO()
    call_command("demo", "--no-serve", stdout=out)
    assert "Demo data loaded." in out.getvalue()
    assert DEMO_PASSWORD in out.getvalue()
    counts = (Engagement.objects.count(), Membership.objects.count())
    out2 = io.StringIO()
    call_command("demo", "--no-serve", stdout=out2)
    assert "already loaded" in out2.getvalue()
    assert (Engagement.objects.count(), Membership.objects.count()) == counts == (3, 6)
    assert audit_verify().ok


def test_demo_client_sees_three_engagements_and_provider_only_its_own():
    call_command("demo", "--no-serve", stdout=io.StringIO())
    client = Membership.objects.get(user__email="vera.client@northwind.example")
    provider = Membership.objects.get(user__email="paul.provider@brightline.example")
    assert engagement_list(membership=client).count() == 3
    assert [e.name for e in engagement_list(membership=provider)] == ["Customer support (EMEA)"]
    assert client.user.check_password(DEMO_PASSWORD)


def test_audit_verify_passes_on_the_demo_and_names_a_row_altered_by_hand():
    from django.core.management import CommandError
    from django.db import connection

    from pactboard.audit.guard import guard_install, guard_remove

    call_command("demo", "--no-serve", stdout=io.StringIO())
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "Audit trail intact" in out.getvalue()
    # By hand, as someone with database access would: lift the guard, change who acted in one event of
    # an engagement's chain, restore the guard. The verifier names that chain and event.
    from pactboard.audit.models import AuditEvent

    target = AuditEvent.objects.filter(chain__startswith="engagement:").order_by("id")[11]
    guard_remove(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET actor_email = %s WHERE id = %s", ["someone.else@example.com", target.pk]
        )
    guard_install(connection)
    with pytest.raises(CommandError, match=rf"{target.chain} at event #{target.seq}\b.*\(edited\)"):
        call_command("audit", "verify")
