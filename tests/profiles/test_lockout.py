"""A stranger cannot lock a creator (or the staff admin) out: the browser they logged in
with before carries a signed known-device cookie that the per-account lock does not apply
to, while the stranger's own guessing stays capped."""

import json
import time
from collections import Counter
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from phoenix import ratelimit

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/?next=/admin/"
DEVICE_COOKIE = "phoenix_device"


@pytest.fixture(autouse=True)
def client_ip_header(settings):
    settings.PHOENIX_CLIENT_IP_HEADER = "HTTP_CF_CONNECTING_IP"


@pytest.fixture(autouse=True)
def one_window(monkeypatch):
    """The counters' windows do not turn over in the middle of a test: 300 guesses on a
    loaded machine once outlasted what was left of a 15-minute window, and the lock was gone
    when the test looked."""
    now = time.time()
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: now))


def log_in(client: Client, username: str, password: str, address: str, url: str = LOGIN):
    return client.post(
        url, {"username": username, "password": password}, HTTP_CF_CONNECTING_IP=address
    )


def logged_in(response) -> bool:
    return response.status_code == 302 and "sessionid" in response.cookies


def stranger_guesses(username: str, tries: int, url: str = LOGIN) -> Counter:
    """`tries` wrong passwords from 20 addresses (IPv4 and IPv6 /64s), each a fresh browser."""
    addresses = [f"203.0.113.{n}" for n in range(10)] + [f"2001:db8:{n}::1" for n in range(10)]
    statuses = Counter()
    for number in range(tries):
        address = addresses[number % len(addresses)]
        response = log_in(Client(), username, f"guess-{number}", address, url)
        statuses["refused" if is_refusal(response) else "checked"] += 1
        assert "sessionid" not in response.cookies
    return statuses


def is_refusal(response) -> bool:
    page = response.content.decode()
    return response.status_code == 429 or "Too many failed log-ins" in page or "paused" in page


def usual_browser(username: str, password: str, url: str = LOGIN) -> Client:
    """A browser that logged in once (and out again), as the owner's own would have."""
    browser = Client()
    assert logged_in(log_in(browser, username, password, "198.51.100.20", url))
    assert DEVICE_COOKIE in browser.cookies
    browser.post("/accounts/logout/")
    return browser


def test_a_strangers_1000_failures_do_not_lock_the_owner_out_of_their_usual_browser(alice):
    owner = usual_browser("alice", "alice-password-123")

    statuses = stranger_guesses("alice", 1000)

    # The stranger's guessing is capped: 10 per network, then the account-wide 100.
    assert statuses["checked"] <= 100
    assert statuses["refused"] >= 900
    # The owner, from the browser they use (at another address today), gets in.
    assert logged_in(log_in(owner, "alice", "alice-password-123", "192.0.2.200"))


def test_a_new_browser_of_the_owner_is_told_what_it_can_do_while_the_account_is_attacked(
    alice,
):
    alice.email = "alice@example.com"  # where the reset e-mail goes
    alice.save(update_fields=["email"])
    stranger_guesses("alice", 300)

    response = log_in(Client(), "alice", "alice-password-123", "192.0.2.201")

    assert response.status_code == 429
    assert "sessionid" not in response.cookies
    page = response.content.decode()
    assert "Someone has been trying to guess the password of this account" in page
    assert "A browser you have logged in with before can still log in" in page
    assert "reset your password" in page
    assert 'href="/accounts/password_reset/"' in page
    assert "paused for" in page and "minutes" in page


def test_the_known_browser_is_still_capped_on_its_own(alice, settings):
    settings.PHOENIX_LOGIN_FAILURES_PER_DEVICE = 5
    owner = usual_browser("alice", "alice-password-123")
    stranger_guesses("alice", 300)

    for _ in range(5):
        assert log_in(owner, "alice", "typo", "198.51.100.20").status_code == 200
    refused = log_in(owner, "alice", "alice-password-123", "198.51.100.20")

    assert refused.status_code == 429
    assert "Too many failed log-ins from this browser" in refused.content.decode()


def test_a_browser_known_to_one_account_gets_no_pass_for_another(alice, bob):
    stranger = usual_browser("bob", "bob-password-123")  # the stranger's own account

    for _ in range(10):
        log_in(stranger, "alice", "wrong", "203.0.113.50")
    response = log_in(stranger, "alice", "alice-password-123", "203.0.113.50")

    assert response.status_code == 429
    assert not logged_in(response)


def test_a_forged_device_cookie_is_ignored(alice):
    stranger_guesses("alice", 300)
    forger = Client()
    forger.cookies[DEVICE_COOKIE] = json.dumps({"d": "x", "u": [alice.pk]})

    response = log_in(forger, "alice", "alice-password-123", "192.0.2.202")

    assert response.status_code == 429


def test_failures_from_the_owners_browser_do_not_count_towards_the_account_lock(alice, settings):
    settings.PHOENIX_LOGIN_FAILURES_PER_ACCOUNT = 5
    settings.PHOENIX_LOGIN_FAILURES_PER_DEVICE = 50
    owner = usual_browser("alice", "alice-password-123")

    for _ in range(20):
        log_in(owner, "alice", "typo", "198.51.100.20")

    # A new browser of the owner is not locked by the owner's own typos.
    assert logged_in(log_in(Client(), "alice", "alice-password-123", "192.0.2.203"))


def test_the_staff_admin_log_in_follows_the_same_rules(db):
    get_user_model().objects.create_superuser("root", password="root-password-123")
    admin_browser = usual_browser("root", "root-password-123", ADMIN_LOGIN)

    statuses = stranger_guesses("root", 400, ADMIN_LOGIN)

    assert statuses["checked"] <= 100
    # A new browser is refused with the reason ...
    refused = log_in(Client(), "root", "root-password-123", "192.0.2.204", ADMIN_LOGIN)
    assert "sessionid" not in refused.cookies
    assert "Someone has been trying to guess the password of this account" in (
        refused.content.decode()
    )
    # ... and the staff member's usual browser gets into the admin.
    response = log_in(admin_browser, "root", "root-password-123", "192.0.2.205", ADMIN_LOGIN)
    assert logged_in(response)
    assert response["Location"] == "/admin/"


def test_a_browser_signed_in_before_the_mark_existed_is_known_once_it_browses(alice):
    # Signed in before the known-device cookie existed (or since it expired): a session,
    # no mark. Browsing while signed in marks the browser, so after logging out a
    # stranger's guessing cannot keep its owner out.
    owner = Client()
    owner.force_login(alice)
    assert DEVICE_COOKIE not in owner.cookies
    assert owner.get("/create").status_code == 200
    owner.post("/accounts/logout/")

    statuses = stranger_guesses("alice", 1000)

    assert statuses["refused"] >= 900
    assert logged_in(log_in(owner, "alice", "alice-password-123", "192.0.2.210"))


def test_browsing_keeps_the_mark_a_log_in_set(alice):
    browser = Client()
    assert logged_in(log_in(browser, "alice", "alice-password-123", "198.51.100.21"))
    mark = browser.cookies[DEVICE_COOKIE].value

    response = browser.get("/create")

    assert DEVICE_COOKIE not in response.cookies  # nothing to add: not set again
    assert browser.cookies[DEVICE_COOKIE].value == mark


def test_an_account_without_an_address_is_not_offered_a_reset_that_cannot_reach_it(
    db,
):
    # Made before sign-up asked for an e-mail address: a reset e-mail cannot reach it.
    get_user_model().objects.create_user("olduser", password="olduser-password-123")
    stranger_guesses("olduser", 300)

    response = log_in(Client(), "olduser", "olduser-password-123", "192.0.2.211")

    assert response.status_code == 429
    page = response.content.decode()
    assert "paused for" in page
    assert "A browser you have logged in with before can still log in" in page
    assert "or wait" in page and "minutes" in page
    assert "reset your password" not in page.lower()
    assert "Reset your password by e-mail" not in page


def test_a_device_refusal_offers_no_reset_to_an_account_without_an_address(db, settings):
    settings.PHOENIX_LOGIN_FAILURES_PER_DEVICE = 2
    get_user_model().objects.create_user("olduser", password="olduser-password-123")
    owner = usual_browser("olduser", "olduser-password-123")
    for _ in range(2):
        log_in(owner, "olduser", "typo", "198.51.100.22")

    response = log_in(owner, "olduser", "olduser-password-123", "198.51.100.22")

    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed log-ins from this browser" in page
    assert "reset your password" not in page.lower()
