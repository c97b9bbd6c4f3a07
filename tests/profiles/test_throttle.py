"""Failed log-ins and sign-ups are throttled per account and per network (Redis counters);
with Redis down nobody is locked out."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from creations import queues
from tokens.models import LedgerEntry

LOGIN = "/accounts/login/"
SIGNUP = "/accounts/signup/"


def log_in(username: str, password: str, *, address: str = "10.0.0.1", **extra):
    return Client().post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, **extra
    )


def logged_in(response) -> bool:
    return response.status_code == 302 and "sessionid" in response.cookies


def test_the_11th_try_after_10_failures_is_refused_even_with_the_right_password(alice):
    for _ in range(10):
        assert log_in("alice", "wrong").status_code == 200

    response = log_in("alice", "alice-password-123")

    assert response.status_code == 429
    assert "Too many failed log-ins. Try again in" in response.content.decode()
    assert not logged_in(response)
    # The lock is on the account: another one on the same network is not held up.
    get_user_model().objects.create_user("carol", password="carol-password-123")
    assert logged_in(log_in("carol", "carol-password-123"))


def test_case_variants_of_a_name_count_as_one_account(alice):
    for name in ["alice", "ALICE", "Alice", " alice"] * 3:
        log_in(name, "wrong")

    assert log_in("alice", "alice-password-123").status_code == 429


def test_a_successful_log_in_clears_the_accounts_failures(alice):
    for _ in range(9):
        log_in("alice", "wrong")
    assert logged_in(log_in("alice", "alice-password-123"))

    for _ in range(9):
        log_in("alice", "wrong")

    assert logged_in(log_in("alice", "alice-password-123"))


def test_one_network_failing_on_many_accounts_is_refused_and_others_are_not(alice, bob, settings):
    settings.PHOENIX_LOGIN_FAILURES_PER_NETWORK = 5
    for number in range(5):
        log_in(f"guess{number}", "wrong", address="10.6.6.6")

    assert log_in("alice", "alice-password-123", address="10.6.6.6").status_code == 429
    assert logged_in(log_in("alice", "alice-password-123", address="10.0.0.2"))


def test_the_address_comes_from_the_proxy_header_when_configured(alice, settings):
    settings.PHOENIX_CLIENT_IP_HEADER = "HTTP_CF_CONNECTING_IP"
    settings.PHOENIX_LOGIN_FAILURES_PER_NETWORK = 3
    for number in range(3):
        log_in(f"guess{number}", "wrong", HTTP_CF_CONNECTING_IP="203.0.113.9")

    # Same proxy address (REMOTE_ADDR), other clients: not held up.
    assert logged_in(log_in("alice", "alice-password-123", HTTP_CF_CONNECTING_IP="203.0.113.7"))
    blocked = log_in("bob", "bob-password-123", HTTP_CF_CONNECTING_IP="203.0.113.9")
    assert blocked.status_code == 429


def test_the_admin_log_in_is_throttled_too(db):
    get_user_model().objects.create_superuser("root", password="root-password-123")
    for _ in range(10):
        Client().post("/admin/login/", {"username": "root", "password": "wrong"})

    response = Client().post(
        "/admin/login/?next=/admin/", {"username": "root", "password": "root-password-123"}
    )

    assert response.status_code == 200  # the admin re-renders its form
    assert "Too many failed log-ins." in response.content.decode()
    assert "sessionid" not in response.cookies


def test_sign_ups_per_network_are_limited_and_the_refused_one_gets_no_tokens(db, settings):
    settings.PHOENIX_SIGNUPS_PER_NETWORK = 2

    def sign_up(name: str, address: str):
        password = "a-long-password-123"
        return Client().post(
            SIGNUP,
            {"username": name, "password1": password, "password2": password},
            REMOTE_ADDR=address,
        )

    assert sign_up("first", "10.1.1.1").status_code == 302
    assert sign_up("second", "10.1.1.1").status_code == 302
    refused = sign_up("third", "10.1.1.1")
    assert refused.status_code == 429
    assert "Too many new accounts from your network." in refused.content.decode()
    assert not get_user_model().objects.filter(username="third").exists()
    assert LedgerEntry.objects.filter(kind="grant").count() == 2
    assert sign_up("fourth", "10.2.2.2").status_code == 302


def test_with_redis_down_nobody_is_locked_out(alice, settings, monkeypatch):
    for _ in range(10):
        log_in("alice", "wrong")
    settings.RQ_QUEUES = {
        name: {**config, "URL": "redis://127.0.0.1:1/0"}
        for name, config in settings.RQ_QUEUES.items()
    }
    queues.reset()

    assert logged_in(log_in("alice", "alice-password-123"))
    assert log_in("alice", "wrong").status_code == 200


@pytest.fixture(autouse=True)
def fresh_queues():
    yield
    queues.reset()
