"""Password hashing at a documented cost, with concurrent hashes bounded (issue 13, item 5)."""

from __future__ import annotations

import threading
import time

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, get_hasher, make_password

from pactboard.accounts.hashers import PactboardArgon2PasswordHasher

HASHER = "pactboard.accounts.hashers.PactboardArgon2PasswordHasher"


@pytest.fixture
def argon2_first(settings) -> None:
    settings.PASSWORD_HASHERS = [HASHER, "django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def test_production_settings_hash_with_the_tuned_argon2_first():
    # The suite swaps in MD5 per test (conftest); the project's own list is what production uses.
    from config import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0] == HASHER


def test_parameters_are_the_documented_ones(argon2_first):
    # RFC 9106 / OWASP: m = 19 MiB = 19456 KiB, t = 2, p = 1 (docs/deployment.md, "Password hashing").
    encoded = make_password("correct-horse-battery-staple")
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert check_password("correct-horse-battery-staple", encoded)
    assert get_hasher("default").algorithm == "argon2"


def test_a_hash_made_with_django_defaults_still_verifies_and_is_upgraded(argon2_first):
    old = Argon2PasswordHasher().encode("correct-horse-battery-staple", Argon2PasswordHasher().salt())
    assert "m=102400" in old
    hasher = PactboardArgon2PasswordHasher()
    assert hasher.verify("correct-horse-battery-staple", old)
    assert hasher.must_update(old)


def test_twenty_concurrent_checks_run_at_most_the_bound_at_once(argon2_first, settings, monkeypatch):
    settings.PACTBOARD_HASH_CONCURRENCY = 2
    encoded = make_password("correct-horse-battery-staple")
    running = 0
    peak = 0
    lock = threading.Lock()

    def counting_verify(self, password, encoded):  # stands in for the real (memory-hungry) Argon2
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return True

    monkeypatch.setattr(Argon2PasswordHasher, "verify", counting_verify)
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(check_password("correct-horse-battery-staple", encoded)))
        for _ in range(20)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 20
    assert peak == 2  # never more than the bound, and the bound is actually used
