"""Password reset by e-mail: Phoenix's pages, the whole way from asking to logging in,
the same answer for an unknown address, and limits per network and per address."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.conftest import sent_emails

RESET = "/accounts/password_reset/"
NEW_PASSWORD = "a-brand-new-password-456"


@pytest.fixture
def carol(db):
    from profiles.services import creator_signup

    return creator_signup(
        username="carol", email="carol@example.com", password="carol-password-123"
    )


def ask_for_reset(client: Client, email: str, address: str = "10.20.0.1"):
    return client.post(RESET, {"email": email}, REMOTE_ADDR=address)


def reset_link(message) -> str:
    return re.search(r"http://testserver(/accounts/reset/\S+/)", message.body)[1]


def test_the_log_in_page_links_to_the_reset(db):
    page = Client().get("/accounts/login/").content.decode()

    assert '<a href="/accounts/password_reset/">Forgot your password?</a>' in page


def test_the_reset_pages_are_phoenixs(db):
    page = Client().get(RESET).content.decode()

    assert "<title>Reset your password · Phoenix</title>" in page
    assert 'class="site-header"' in page  # base.html, not the admin's
    assert "Send me the link" in page


def test_a_creator_resets_their_password_by_e_mail_and_logs_in_with_it(carol):
    browser = Client()
    done = ask_for_reset(browser, "Carol@Example.com")

    assert done.status_code == 302 and done["Location"] == "/accounts/password_reset/done/"
    assert "Check your e-mail" in browser.get(done["Location"]).content.decode()
    [message] = sent_emails()
    assert message.to == ["carol@example.com"]
    assert message.subject == "Reset your Phoenix password"
    assert "Your username, in case you have forgotten it: carol" in message.body

    form_page = browser.get(reset_link(message), follow=True)
    assert "Choose a new password" in form_page.content.decode()
    set_password = browser.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert set_password.status_code == 302
    complete = browser.get(set_password["Location"]).content.decode()
    assert "Your new password is set" in complete
    assert "logged in as carol" in complete
    assert "phoenix_device" in browser.cookies  # a way in while log-ins are paused

    fresh = Client()
    response = fresh.post("/accounts/login/", {"username": "carol", "password": NEW_PASSWORD})
    assert response.status_code == 302 and "sessionid" in response.cookies
    old = Client().post("/accounts/login/", {"username": "carol", "password": "carol-password-123"})
    assert old.status_code == 200
    # The link works once.
    used = Client().get(reset_link(message), follow=True).content.decode()
    assert "This link no longer works" in used


def test_an_unknown_address_gets_the_same_answer_as_a_known_one(carol):
    known = ask_for_reset(Client(), "carol@example.com")
    unknown = ask_for_reset(Client(), "nobody@example.com")

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(sent_emails()) == 1


def test_resets_are_limited_per_address_whether_or_not_it_has_an_account(carol, settings):
    settings.PHOENIX_EMAILS_PER_ADDRESS = 2
    for email in ("carol@example.com", "nobody@example.com"):
        for number in range(2):
            assert ask_for_reset(Client(), email, f"10.21.{number}.1").status_code == 302

        refused = ask_for_reset(Client(), email.upper(), "10.21.9.1")

        assert refused.status_code == 429
        assert "Too many password reset e-mails asked for" in refused.content.decode()
    assert len(sent_emails()) == 2


def test_resets_are_limited_per_network_and_an_ipv6_64_is_one_network(carol, settings):
    settings.PHOENIX_CLIENT_IP_HEADER = "HTTP_CF_CONNECTING_IP"
    settings.PHOENIX_EMAILS_PER_NETWORK = 3

    for number in range(3):
        response = Client().post(
            RESET,
            {"email": f"x{number}@example.com"},
            HTTP_CF_CONNECTING_IP=f"2001:db8:5::{number}",
        )
        assert response.status_code == 302
    refused = Client().post(
        RESET, {"email": "carol@example.com"}, HTTP_CF_CONNECTING_IP="2001:db8:5::ff"
    )
    other = Client().post(
        RESET, {"email": "carol@example.com"}, HTTP_CF_CONNECTING_IP="2001:db8:6::1"
    )

    assert refused.status_code == 429
    assert other.status_code == 302
    assert len(sent_emails()) == 1


def test_a_bad_address_is_a_form_error(db):
    response = ask_for_reset(Client(), "not-an-address")

    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert sent_emails() == []


def test_the_reset_link_lets_the_owner_in_while_log_ins_are_paused(carol, settings):
    settings.PHOENIX_LOGIN_FAILURES_PER_ACCOUNT = 5
    for number in range(5):
        Client().post(
            "/accounts/login/",
            {"username": "carol", "password": "wrong"},
            REMOTE_ADDR=f"203.0.113.{number}",
        )
    browser = Client()
    assert (
        browser.post(
            "/accounts/login/", {"username": "carol", "password": "carol-password-123"}
        ).status_code
        == 429
    )

    ask_for_reset(browser, "carol@example.com")
    form_page = browser.get(reset_link(sent_emails()[0]), follow=True)
    browser.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    browser.post("/accounts/logout/")

    # Logged in by the link, and from now on a known browser.
    again = browser.post("/accounts/login/", {"username": "carol", "password": NEW_PASSWORD})
    assert again.status_code == 302 and "sessionid" in again.cookies
    assert get_user_model().objects.get(username="carol").check_password(NEW_PASSWORD)
