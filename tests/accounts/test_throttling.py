"""Log-in, password reset and invitation acceptance are throttled per account and per address (issue 13, item 5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pactboard.accounts.models import Role
from pactboard.accounts.services import invitation_create
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.django_db

LOGIN = "accounts:login"


def _login(c: Client, email: str, password: str) -> int:
    return c.post(reverse(LOGIN), {"username": email, "password": password}).status_code


def _logged_in(c: Client) -> bool:
    return "_auth_user_id" in c.session


def test_hundred_wrong_passwords_lock_the_account_until_the_cool_off_ends(world: World, settings):
    settings.AXES_FAILURE_LIMIT = 10
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        c = Client()
        for _ in range(100):
            assert _login(c, "carla@acme.example", "wrong-guess") in {200, 429}
        # The right password, during the lock-out: refused, not logged in.
        assert _login(c, "carla@acme.example", PASSWORD) == 429
        assert not _logged_in(c)
        # A different address for the same account is refused too (per account) ...
        other = Client(REMOTE_ADDR="198.51.100.7")
        assert _login(other, "Carla@Acme.example", PASSWORD) == 429
        assert not _logged_in(other)
        # ... and after the cool-off (15 minutes, AXES_COOLOFF_TIME) the owner logs in.
        traveller.shift(timedelta(minutes=16))
        assert _login(c, "carla@acme.example", PASSWORD) == 302
        assert _logged_in(c)


def test_one_address_guessing_many_accounts_is_locked(world: World, settings):
    settings.AXES_FAILURE_LIMIT = 5
    c = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(5):
        _login(c, f"nobody{n}@acme.example", "wrong-guess")
    # Per address: the sixth attempt from it is refused even for a real account with its right password.
    assert _login(c, "pedro@helpline.example", PASSWORD) == 429
    assert not _logged_in(c)
    # Another address is not affected.
    ok = Client(REMOTE_ADDR="203.0.113.10")
    assert _login(ok, "pedro@helpline.example", PASSWORD) == 302


def test_forwarded_for_counts_only_behind_trusted_proxies(world: World, settings):
    settings.AXES_FAILURE_LIMIT = 3
    # Without a trusted proxy a client's own X-Forwarded-For changes nothing: it is still one address.
    for n in range(3):
        Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").post(
            reverse(LOGIN), {"username": f"x{n}@acme.example", "password": "no"}
        )
    assert (
        _login(Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.99"), "pedro@helpline.example", PASSWORD)
        == 429
    )


def test_password_reset_is_throttled_per_address_and_per_account(world: World, settings):
    settings.PACTBOARD_RESET_ATTEMPTS = 3
    url = reverse("accounts:password_reset")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for n in range(3):
            assert Client(REMOTE_ADDR=f"192.0.2.{n}").post(url, {"email": "carla@acme.example"}).status_code == 302
        # Per account: a fourth request for the same e-mail from yet another address is refused, no mail sent.
        refused = Client(REMOTE_ADDR="192.0.2.50").post(url, {"email": "carla@acme.example"})
        assert refused.status_code == 429
        assert "Too many attempts" in refused.text
        assert len(mail.outbox) == 3
        # Per address: one address asking for many e-mails is refused after three.
        c = Client(REMOTE_ADDR="198.51.100.1")
        for n in range(3):
            assert c.post(url, {"email": f"someone{n}@acme.example"}).status_code == 302
        assert c.post(url, {"email": "victor@acme.example"}).status_code == 429
        # The next window lets them through again.
        traveller.shift(timedelta(seconds=settings.PACTBOARD_THROTTLE_WINDOW_SECONDS + 1))
        assert c.post(url, {"email": "victor@acme.example"}).status_code == 302


def test_invitation_acceptance_is_throttled(world: World, settings, django_capture_on_commit_callbacks):
    settings.PACTBOARD_INVITATION_ATTEMPTS = 3
    _, raw = invitation_create(
        actor=None, organisation=world.client_org, email="new@acme.example", role=Role.VIEWER, invited_by=None
    )
    url = reverse("accounts:invitation_accept", args=[raw])
    bad = {"full_name": "New", "password": "short", "password_again": "short"}
    for n in range(3):
        assert Client(REMOTE_ADDR=f"192.0.2.{n}").post(url, bad).status_code == 422
    # Per invitation, whatever the address: the fourth attempt is refused before any password is looked at.
    good = {"full_name": "New", "password": "a-much-better-pass-9", "password_again": "a-much-better-pass-9"}
    assert Client(REMOTE_ADDR="192.0.2.77").post(url, good).status_code == 429
