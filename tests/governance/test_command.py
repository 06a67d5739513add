"""`pactboard reviews schedule`: creates the next reviews once, however often it runs."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pactboard.governance.models import Meeting
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_schedule_command_is_idempotent(world: World, capsys):
    call_command("reviews", "schedule", str(world.engagement.pk))
    assert "Acme support: 2 reviews scheduled" in capsys.readouterr().out
    call_command("reviews", "schedule")  # every active engagement: ours and the outsider's
    out = capsys.readouterr().out
    assert "Acme support: 0 reviews scheduled" in out
    assert "Globex back office: 2 reviews scheduled" in out
    assert Meeting.objects.filter(engagement=world.engagement).count() == 2


def test_unknown_engagement_is_a_clear_error(world: World):
    with pytest.raises(CommandError, match="No engagement"):
        call_command("reviews", "schedule", "Nope")
