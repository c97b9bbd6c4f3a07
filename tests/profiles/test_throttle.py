"""Failed log-ins and sign-ups are throttled per account and per network (Redis counters);
with Redis down nobody is locked out."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from creations import queues
from tests.conftest import run_at_once
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
    assert "Too many failed log-ins from your network. Try again in" in response.content.decode()
    assert not logged_in(response)
    # Locked for that network only: failing on someone's name does not lock them out
    # everywhere, and other accounts on that network are not held up.
    assert logged_in(log_in("alice", "alice-password-123", address="10.9.9.9"))
    get_user_model().objects.create_user("carol", password="carol-password-123")
    assert logged_in(log_in("carol", "carol-password-123"))


def test_a_blank_password_does_not_reset_the_count(alice):
    for _ in range(9):
        log_in("alice", "wrong")
    log_in("alice", "")  # checks no password: must not clear the failures before it

    assert log_in("alice", "alice-password-123").status_code == 429


def test_hammering_from_one_network_does_not_reach_the_account_wide_backstop(alice, settings):
    settings.PHOENIX_LOGIN_FAILURES_PER_ACCOUNT = 20
    for _ in range(50):
        log_in("alice", "wrong", address="10.66.66.66")

    assert log_in("alice", "alice-password-123", address="10.66.66.66").status_code == 429
    assert logged_in(log_in("alice", "alice-password-123", address="192.0.2.10"))


def test_failures_from_many_networks_lock_the_account_at_the_backstop(alice, settings):
    settings.PHOENIX_LOGIN_FAILURES_PER_ACCOUNT = 5
    for number in range(5):
        log_in("alice", "wrong", address=f"10.5.5.{number}")

    assert log_in("alice", "alice-password-123", address="10.5.5.99").status_code == 429


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_cannot_slip_under_the_limit(alice, settings):
    settings.PHOENIX_LOGIN_FAILURES = 3

    statuses = run_at_once([lambda: log_in("alice", "wrong").status_code] * 12)

    assert sorted(statuses) == [200] * 3 + [429] * 9


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
    settings.PHOENIX_TRUSTED_PROXIES = ["10.0.0.1"]  # the proxy log_in() comes through
    settings.PHOENIX_LOGIN_FAILURES_PER_NETWORK = 3
    for number in range(3):
        log_in(f"guess{number}", "wrong", HTTP_CF_CONNECTING_IP="203.0.113.9")

    # Same proxy address (REMOTE_ADDR), other clients: not held up.
    assert logged_in(log_in("alice", "alice-password-123", HTTP_CF_CONNECTING_IP="203.0.113.7"))
    blocked = log_in("bob", "bob-password-123", HTTP_CF_CONNECTING_IP="203.0.113.9")
    assert blocked.status_code == 429


def test_only_the_right_most_forwarded_address_counts(alice, settings):
    """A load balancer appends the address it saw; what comes before is the client's say."""
    settings.PHOENIX_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.PHOENIX_TRUSTED_PROXIES = ["10.0.0.1"]
    settings.PHOENIX_LOGIN_FAILURES_PER_NETWORK = 3
    for number in range(3):
        forged = f"198.51.100.{number}, 203.0.113.5"
        log_in(f"guess{number}", "wrong", HTTP_X_FORWARDED_FOR=forged)

    forged = "198.51.100.77, 203.0.113.5"
    assert log_in("alice", "alice-password-123", HTTP_X_FORWARDED_FOR=forged).status_code == 429


def test_the_admin_log_in_is_throttled_too(db):
    get_user_model().objects.create_superuser("root", password="root-password-123")
    for _ in range(10):
        Client().post("/admin/login/", {"username": "root", "password": "wrong"})

    response = Client().post(
        "/admin/login/?next=/admin/", {"username": "root", "password": "root-password-123"}
    )

    assert response.status_code == 200  # the admin re-renders its form
    assert "Too many failed log-ins from your network." in response.content.decode()
    assert "sessionid" not in response.cookies


def test_sign_ups_per_network_are_limited_and_the_refused_one_makes_no_account(db, settings):
    settings.PHOENIX_SIGNUPS_PER_NETWORK = 2

    def sign_up(name: str, address: str):
        password = "a-long-password-123"
        return Client().post(
            SIGNUP,
            {
                "username": name,
                "email": f"{name}@example.com",
                "password1": password,
                "password2": password,
            },
            REMOTE_ADDR=address,
        )

    assert sign_up("first", "10.1.1.1").status_code == 302
    assert sign_up("second", "10.1.1.1").status_code == 302
    refused = sign_up("third", "10.1.1.1")
    assert refused.status_code == 429
    assert "Too many new accounts from your network." in refused.content.decode()
    # The styled 429 page says when to try again, and so does its header.
    assert 0 < int(refused["Retry-After"]) <= settings.PHOENIX_SIGNUP_WINDOW
    assert "Try again in" in refused.content.decode()
    assert not get_user_model().objects.filter(username="third").exists()
    assert LedgerEntry.objects.filter(kind="grant").count() == 0  # not before confirming
    assert sign_up("fourth", "10.2.2.2").status_code == 302


@pytest.mark.django_db(transaction=True)
def test_parallel_sign_ups_cannot_slip_under_the_limit(settings):
    settings.PHOENIX_SIGNUPS_PER_NETWORK = 2
    password = "a-long-password-123"

    def sign_up(name: str) -> int:
        form = {
            "username": name,
            "email": f"{name}@example.com",
            "password1": password,
            "password2": password,
        }
        return Client().post(SIGNUP, form, REMOTE_ADDR="10.3.3.3").status_code

    statuses = run_at_once([lambda name=f"racer{i}": sign_up(name) for i in range(8)])

    assert sorted(statuses) == [302] * 2 + [429] * 6
    assert get_user_model().objects.filter(username__startswith="racer").count() == 2


def test_an_invalid_sign_up_form_does_not_use_up_the_limit(db, settings):
    settings.PHOENIX_SIGNUPS_PER_NETWORK = 1
    bad = {
        "username": "typo",
        "email": "typo@example.com",
        "password1": "a-long-password-123",
        "password2": "different",
    }
    for _ in range(3):
        assert Client().post(SIGNUP, bad, REMOTE_ADDR="10.4.4.4").status_code == 200

    good = {**bad, "password2": bad["password1"]}
    assert Client().post(SIGNUP, good, REMOTE_ADDR="10.4.4.4").status_code == 302


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
