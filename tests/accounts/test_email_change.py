"""Changing the e-mail address: a signed link to the new address, which changes it only
when followed; a notice to the old one; the welcome grant still once per person and once
per address (the address history, WelcomedAddress, keeps every address that earned one)."""

import re

import pytest
from django.core import mail
from django.test import Client

from profiles.models import ConfirmedEmail, WelcomedAddress
from profiles.services import creator_register, email_confirm
from tests.conftest import run_worker_burst
from tokens.models import LedgerEntry

pytestmark = pytest.mark.django_db(transaction=True)  # e-mails go by a job after COMMIT


def welcomed(user) -> int:
    return LedgerEntry.objects.filter(account__user=user, kind="grant", reason="welcome").count()


@pytest.fixture
def dana(db):
    """A creator who signed up on the site and confirmed her address: welcomed once."""
    user = creator_register(username="dana", email="dana@example.com", password="dana-pass-123")
    email_confirm(user=user)
    return user


@pytest.fixture
def dana_client(dana):
    client = Client()
    client.force_login(dana)
    return client


def ask_for(client: Client, new: str, password: str = "dana-pass-123"):
    return client.post("/settings/email", {"email": new, "password": password})


def link_in_last_email(to: str) -> str:
    run_worker_burst()
    [email] = [m for m in mail.outbox if m.to == [to]]
    return re.search(r"https?://\S+|/settings/email/confirm/\S+", email.body)[0]


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3] if url.startswith("http") else url


def test_the_address_changes_only_when_the_link_is_followed(dana, dana_client):
    assert ask_for(dana_client, "dana@new.example").status_code == 302
    dana.refresh_from_db()
    assert dana.email == "dana@example.com"
    link = path_of(link_in_last_email("dana@new.example"))
    assert dana_client.get(link).status_code == 200  # a page with a button: still unchanged
    dana.refresh_from_db()
    assert dana.email == "dana@example.com"

    assert dana_client.post(link).status_code == 302
    dana.refresh_from_db()
    assert dana.email == "dana@new.example"
    assert ConfirmedEmail.objects.get(user=dana).address == "dana@new.example"
    # The old address is told.
    run_worker_burst()
    [notice] = [m for m in mail.outbox if m.to == ["dana@example.com"]]
    assert "dana@new.example" in notice.body
    # The link works once.
    assert dana_client.post(link).status_code == 400


def test_a_wrong_password_sends_nothing(dana, dana_client):
    response = ask_for(dana_client, "dana@new.example", password="wrong")
    assert response.status_code == 400
    run_worker_burst()
    assert mail.outbox == []


def test_an_address_another_account_has_is_refused(dana, dana_client, alice):
    alice.email = "alice@example.com"
    alice.save(update_fields=["email"])
    assert ask_for(dana_client, "ALICE@example.com").status_code == 400


def test_a_tampered_link_changes_nothing(dana, dana_client):
    ask_for(dana_client, "dana@new.example")
    link = path_of(link_in_last_email("dana@new.example"))
    tampered = link.replace("/confirm/", "/confirm/x")
    assert dana_client.post(tampered).status_code == 400
    dana.refresh_from_db()
    assert dana.email == "dana@example.com"


def test_a_new_address_brings_no_second_welcome_grant(dana, dana_client):
    assert welcomed(dana) == 1
    ask_for(dana_client, "dana@fresh.example")
    dana_client.post(path_of(link_in_last_email("dana@fresh.example")))
    assert welcomed(dana) == 1


def test_the_old_address_earns_nothing_on_a_new_account(dana, dana_client):
    ask_for(dana_client, "dana@new.example")
    dana_client.post(path_of(link_in_last_email("dana@new.example")))
    # Someone signs up with the address Dana left: it had its welcome already.
    newcomer = creator_register(username="newcomer", email="dana@example.com", password="x-pw-1234")
    assert email_confirm(user=newcomer).grant is None
    assert welcomed(newcomer) == 0
    assert WelcomedAddress.objects.filter(address="dana@example.com").exists()


def test_an_account_never_welcomed_gets_its_grant_with_the_changed_address(db):
    erin = creator_register(username="erin", email="erin@typo.example", password="erin-pass-123")
    client = Client()
    client.force_login(erin)
    ask_for(client, "erin@example.com", password="erin-pass-123")
    client.post(path_of(link_in_last_email("erin@example.com")))
    assert welcomed(erin) == 1
