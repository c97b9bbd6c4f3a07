"""Sign-in like a product: the username or the e-mail address, in any case (the form keeps
its `username` and `password` fields), the two-factor step still after it; words written
for creators; the password rules where a password is chosen; sign-up offered to someone
new on the log-in page."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from profiles.selectors import login_name
from profiles.services import creator_register, creator_signup
from tests.accounts.conftest import enable_two_factor, log_in, signed_in_as

PASSWORD = "maya-password-123"


@pytest.fixture
def maya(db):
    return creator_register(username="Maya", email="Maya.Lind@Example.com", password=PASSWORD)


@pytest.mark.parametrize(
    "typed",
    ["Maya", "maya", "MAYA", "  maya  ", "maya.lind@example.com", "MAYA.LIND@EXAMPLE.COM"],
)
def test_the_username_or_the_email_in_any_case_signs_in(maya, typed):
    client = Client()
    response = log_in(client, typed, PASSWORD)
    assert response.status_code == 302
    assert signed_in_as(client) == str(maya.pk)


def test_a_wrong_password_is_refused_in_a_creators_words(maya):
    client = Client()
    response = log_in(client, "maya.lind@example.com", "not-it")
    assert response.status_code == 200
    assert signed_in_as(client) is None
    html = response.content.decode()
    assert "That username or e-mail and password do not match an account" in html
    assert "case-sensitive" not in html


def test_of_two_names_differing_in_case_only_the_exact_one_is_meant(db):
    upper = creator_signup(username="Sam", password="sam-upper-password-1")
    lower = creator_signup(username="sam", password="sam-lower-password-1")
    assert login_name("Sam") == "Sam" and login_name("sam") == "sam"
    assert login_name("SAM") == "SAM"  # ambiguous: no account is guessed
    client = Client()
    log_in(client, "sam", "sam-lower-password-1")
    assert signed_in_as(client) == str(lower.pk)
    client = Client()
    log_in(client, "Sam", "sam-upper-password-1")
    assert signed_in_as(client) == str(upper.pk)


def test_the_email_still_leads_to_the_two_factor_step(maya):
    enable_two_factor(maya)
    client = Client()
    response = log_in(client, "MAYA.LIND@example.com", PASSWORD)
    assert response["Location"] == reverse("login_code")
    assert signed_in_as(client) is None


def test_the_limits_count_an_account_once_however_it_is_named(maya, settings):
    settings.PHOENIX_LOGIN_FAILURES_PER_ACCOUNT = 2
    settings.PHOENIX_LOGIN_FAILURES = 100
    settings.PHOENIX_LOGIN_FAILURES_PER_NETWORK = 100
    for typed, address in (("maya", "10.1.0.1"), ("maya.lind@example.com", "10.2.0.1")):
        Client().post(
            reverse("login"), {"username": typed, "password": "wrong"}, REMOTE_ADDR=address
        )
    refused = Client().post(
        reverse("login"), {"username": "MAYA", "password": PASSWORD}, REMOTE_ADDR="10.3.0.1"
    )
    assert refused.status_code == 429


def test_the_log_in_page_offers_sign_up_and_says_what_to_type(db):
    html = Client().get(reverse("login")).content.decode()
    assert '<label class="field__label" for="id_username">Username or e-mail</label>' in html
    assert 'name="username"' in html and 'name="password"' in html
    assert "New to Phoenix?" in html
    assert f'href="{reverse("signup")}"' in html
    assert "your first 100 tokens are free" in html
    # Rules belong where a password is chosen, not where it is typed to log in.
    assert "At least 8 characters" not in html


def test_the_password_rules_are_in_a_creators_words_where_a_password_is_chosen(db):
    html = Client().get(reverse("signup")).content.decode()
    assert "<li>At least 8 characters.</li>" in html
    assert "<li>Not a password many people use.</li>" in html
    assert "Your password can’t be too similar" not in html
    assert "Required. 150 characters or fewer" not in html


def test_nobody_is_created_by_logging_in_with_an_unknown_address(db):
    client = Client()
    log_in(client, "nobody@example.com", PASSWORD)
    assert signed_in_as(client) is None
    assert not get_user_model().objects.exists()
