"""Sign-up asks for an e-mail address; the welcome grant waits until the address is
confirmed through the signed link sent to it, and comes at most once per address."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.test import Client

from profiles.models import ConfirmedEmail, WelcomedAddress
from tests.conftest import forget_sent_emails, sent_emails
from tokens.models import LedgerEntry
from tokens.services import ledger_discrepancies

SIGNUP = "/accounts/signup/"
PASSWORD = "a-long-password-123"
BANNER = "Confirm your e-mail to receive your 100 welcome tokens."


def sign_up(client: Client, name: str, email: str, address: str = "10.7.7.7"):
    form = {"username": name, "email": email, "password1": PASSWORD, "password2": PASSWORD}
    return client.post(SIGNUP, form, REMOTE_ADDR=address)


def balance(username: str) -> int:
    return get_user_model().objects.get(username=username).token_account.balance


def confirm_link(message) -> str:
    return re.search(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", message.body)[1]


def test_a_new_creator_has_no_tokens_until_they_confirm_their_address(db):
    client = Client()
    response = sign_up(client, "maker", "Maker@Example.com")

    assert response.status_code == 302
    assert balance("maker") == 0
    assert LedgerEntry.objects.count() == 0
    # Django's form lower-cases the domain only.
    assert get_user_model().objects.get(username="maker").email == "Maker@example.com"
    # They can use Phoenix meanwhile, and are told how to get their tokens.
    page = client.get("/create").content.decode()
    assert "Confirm your address to unlock 100 free tokens" in page  # the create page's own
    assert "Resend the link" in page
    assert BANNER in client.get("/").content.decode()

    [message] = sent_emails()
    assert message.to == ["Maker@example.com"]
    assert "100 welcome tokens" in message.body
    link = confirm_link(message)
    assert "Confirm my e-mail" in Client().get(link).content.decode()
    assert balance("maker") == 0  # opening the link (a mail scanner may) changes nothing

    confirmed = client.post(link)

    assert confirmed.status_code == 302 and confirmed["Location"] == "/create"
    assert balance("maker") == 100
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.reason, entry.amount) == ("grant", "welcome", 100)
    assert WelcomedAddress.objects.get().address == "maker@example.com"
    page = client.get("/create").content.decode()
    assert "100 welcome tokens are yours" in page
    assert BANNER not in page
    assert ledger_discrepancies() == []


def test_following_the_link_twice_grants_once(db):
    client = Client()
    sign_up(client, "maker", "maker@example.com")
    link = confirm_link(sent_emails()[0])

    client.post(link)
    again = client.post(link)

    assert again.status_code == 302
    assert balance("maker") == 100
    assert LedgerEntry.objects.filter(kind="grant").count() == 1


def test_an_address_gets_one_welcome_even_through_a_new_account_or_another_spelling(db):
    first = Client()
    sign_up(first, "first", "farmer@example.com")
    first.post(confirm_link(sent_emails()[0]))
    # The address moves to a new account (the first one gave it up).
    get_user_model().objects.filter(username="first").update(email="elsewhere@example.com")

    for number, spelling in enumerate(["FARMER@example.com", "farmer+2@Example.com"]):
        forget_sent_emails()
        client = Client()
        sign_up(client, f"again{number}", spelling, address=f"10.8.8.{number}")
        response = client.post(confirm_link(sent_emails()[0]))
        assert response.status_code == 302
        assert balance(f"again{number}") == 0
        page = client.get("/create").content.decode()
        assert "This address has had its welcome tokens already" in page
        assert BANNER not in page  # confirmed: nothing more to wait for

    assert LedgerEntry.objects.filter(kind="grant").count() == 1


def test_gmail_dots_and_domains_are_one_address(db):
    client = Client()
    sign_up(client, "dots", "jane.doe@gmail.com")
    client.post(confirm_link(sent_emails()[0]))
    forget_sent_emails()
    client = Client()
    sign_up(client, "nodots", "janedoe+x@googlemail.com", address="10.9.9.9")
    client.post(confirm_link(sent_emails()[0]))

    assert balance("dots") == 100
    assert balance("nodots") == 0


def test_changing_the_accounts_address_does_not_grant_again(db):
    client = Client()
    sign_up(client, "maker", "maker@example.com")
    client.post(confirm_link(sent_emails()[0]))
    user = get_user_model().objects.get(username="maker")
    user.email = "new-address@example.com"
    user.save(update_fields=["email"])

    forget_sent_emails()
    client.post("/accounts/confirm-email/resend", {"next": "/create"})
    client.post(confirm_link(sent_emails()[0]))

    assert ConfirmedEmail.objects.get(user=user).address == "new-address@example.com"
    assert balance("maker") == 100


def test_a_link_for_an_old_address_a_tampered_one_or_an_expired_one_is_refused(db, settings):
    client = Client()
    sign_up(client, "maker", "maker@example.com")
    link = confirm_link(sent_emails()[0])

    tampered = link[:-3] + "xx/"
    assert client.post(tampered).status_code == 400
    assert "This link is not valid" in client.get(tampered).content.decode()

    settings.PHOENIX_EMAIL_CONFIRM_DAYS = -1
    expired = client.post(link)
    assert expired.status_code == 400
    assert "This link has expired" in expired.content.decode()
    settings.PHOENIX_EMAIL_CONFIRM_DAYS = 7

    get_user_model().objects.filter(username="maker").update(email="other@example.com")
    moved = client.post(link)
    assert moved.status_code == 400
    assert "no longer on the account" in moved.content.decode()
    assert balance("maker") == 0


def test_a_link_signed_for_something_else_does_not_confirm(db):
    client = Client()
    sign_up(client, "maker", "maker@example.com")
    user = get_user_model().objects.get(username="maker")
    forged = signing.dumps({"u": user.pk, "e": user.email})  # Django's default salt

    assert client.post(f"/accounts/confirm-email/{forged}/").status_code == 400
    assert balance("maker") == 0


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("", "This field is required."),
        ("not-an-address", "Enter a valid email address."),
        ("Taken@Example.com", "An account with this e-mail address exists."),
    ],
)
def test_sign_up_needs_a_valid_address_no_account_has(db, email, error):
    get_user_model().objects.create_user("holder", email="taken@example.com", password="x")

    response = sign_up(Client(), "maker", email)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not get_user_model().objects.filter(username="maker").exists()
    assert sent_emails() == []


def test_probing_for_taken_addresses_uses_up_the_sign_up_limit(db, settings):
    settings.PHOENIX_SIGNUPS_PER_NETWORK = 3
    for number in range(3):
        get_user_model().objects.create_user(f"u{number}", email=f"u{number}@example.com")

    for number in range(3):
        assert sign_up(Client(), "probe", f"u{number}@example.com").status_code == 200

    assert sign_up(Client(), "probe", "fresh@example.com").status_code == 429


def test_the_resend_button_sends_a_new_link_and_is_rate_limited(db, settings):
    settings.PHOENIX_EMAILS_PER_ADDRESS = 3  # the sign-up's e-mail is one of them
    client = Client()
    sign_up(client, "maker", "maker@example.com")

    for _ in range(2):
        response = client.post("/accounts/confirm-email/resend", {"next": "/soho/maker"})
        assert response.status_code == 302 and response["Location"] == "/soho/maker"
    refused = client.post("/accounts/confirm-email/resend", {"next": "/soho/maker"})

    assert len(sent_emails()) == 3
    assert refused.status_code == 429
    assert "We have sent several links to maker@example.com already" in refused.content.decode()
    # Every link sent works (and grants once).
    client.post(confirm_link(sent_emails()[1]))
    assert balance("maker") == 100


def test_resend_goes_only_back_to_this_site(db):
    client = Client()
    sign_up(client, "maker", "maker@example.com")

    response = client.post("/accounts/confirm-email/resend", {"next": "https://evil.example/"})

    assert response["Location"] == "/create"


def test_the_demo_user_and_the_fixtures_start_with_their_tokens_and_no_banner(alice, db):
    from django.core.management import call_command

    call_command("create_demo_user")

    assert balance("demo") == 100
    assert balance("alice") == 100
    client = Client()
    client.post("/accounts/login/", {"username": "demo", "password": "phoenix-demo"})
    assert BANNER not in client.get("/create").content.decode()


@pytest.mark.parametrize(
    ("taken_meanwhile", "field", "error"),
    [
        # A name with "email" in it: the database's message names it, not the address.
        (
            {"username": "emailfan", "email": "other@example.com"},
            "username",
            "A user with that username already exists.",
        ),
        (
            {"username": "quicker", "email": "EmailFan@Example.com"},
            "email",
            "An account with this e-mail address exists. Log in, or reset its password.",
        ),
    ],
)
def test_a_sign_up_that_loses_a_race_says_which_field_was_taken(
    db, monkeypatch, taken_meanwhile, field, error
):
    from profiles import views

    real_register = views.creator_register

    def another_sign_up_first(**kwargs):
        # Another sign-up commits between this one's form check and its insert.
        get_user_model().objects.create_user(password="x", **taken_meanwhile)
        return real_register(**kwargs)

    monkeypatch.setattr(views, "creator_register", another_sign_up_first)

    response = sign_up(Client(), "emailfan", "emailfan@example.com")

    assert response.status_code == 200
    assert response.context["form"].errors == {field: [error]}
    assert (
        not get_user_model()
        .objects.filter(email__iexact="emailfan@example.com")
        .exclude(username="quicker")
        .exists()
    )
