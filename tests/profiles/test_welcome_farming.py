"""The welcome grant cannot be farmed: disposable mailboxes are refused (a maintained list
plus staff rules, no deploy needed), sign-ups are counted per IPv6 /48 as well as per /64,
and a site-wide daily cap holds grants back (granted later, oldest first) with an alert
near it."""

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from profiles import services, welcome
from profiles.models import EmailDomainRule, PendingWelcome, WelcomeDay
from tests.conftest import run_at_once, sent_emails
from tokens.models import LedgerEntry
from tokens.services import ledger_discrepancies

SIGNUP = "/accounts/signup/"
PASSWORD = "a-long-password-123"


def sign_up(name: str, email: str, address: str = "10.7.7.7", client: Client | None = None):
    form = {"username": name, "email": email, "password1": PASSWORD, "password2": PASSWORD}
    return (client or Client()).post(SIGNUP, form, REMOTE_ADDR=address)


def confirm(client: Client, message) -> None:
    link = re.search(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", message.body)[1]
    return client.post(link, follow=True)


def balance(username: str) -> int:
    return get_user_model().objects.get(username=username).token_account.balance


@pytest.mark.parametrize(
    "email", ["someone@mailinator.com", "someone@Sub.Mailinator.COM", "x@guerrillamail.com"]
)
def test_a_disposable_mailbox_cannot_sign_up(db, email):
    response = sign_up("farmer", email)

    assert response.status_code == 200
    assert "disposable-mail services cannot be used" in response.content.decode()
    assert not get_user_model().objects.filter(username="farmer").exists()
    assert sent_emails() == []


def test_staff_rules_block_a_domain_the_list_misses_and_lift_one_it_names(db):
    EmailDomainRule.objects.create(domain="newburner.example", blocked=True)
    EmailDomainRule.objects.create(domain="mailinator.com", blocked=False)

    refused = sign_up("farmer", "a@mx.newburner.example")
    allowed = sign_up("tester", "qa@mailinator.com")

    assert "disposable-mail services" in refused.content.decode()
    assert allowed.status_code == 302
    assert get_user_model().objects.filter(username="tester").exists()


def test_a_newer_list_is_imported_without_a_deploy(db, tmp_path: Path):
    listing = tmp_path / "disposable_email_blocklist.conf"
    listing.write_text("# fresh copy\nBrandNewBurner.example\n\nother-burner.example # note\n")

    call_command("import_email_domains", str(listing))

    assert set(EmailDomainRule.objects.values_list("domain", flat=True)) == {
        "brandnewburner.example",
        "other-burner.example",
    }
    assert "disposable-mail services" in sign_up("f", "a@brandnewburner.example").content.decode()


def test_the_email_change_form_refuses_a_disposable_mailbox(alice, client):
    client.force_login(alice)

    response = client.post(
        "/settings/email", {"email": "alice@mailinator.com", "password": "alice-password-123"}
    )

    assert "disposable-mail services cannot be used" in response.content.decode()
    assert sent_emails() == []


def test_sign_ups_are_counted_per_ipv6_48_as_well_as_per_64(db, settings):
    settings.PHOENIX_SIGNUPS_PER_NETWORK = 100
    settings.PHOENIX_SIGNUPS_PER_WIDE_NETWORK = 3
    # Four different /64s of one /48: each /64 is fresh, the /48 is not.
    for n in range(3):
        assert (
            sign_up(f"maker{n}", f"maker{n}@example.com", f"2001:db8:7:{n}::1").status_code == 302
        )

    refused = sign_up("maker9", "maker9@example.com", "2001:db8:7:9::1")

    assert refused.status_code == 429
    assert sign_up("other", "other@example.com", "2001:db8:8::1").status_code == 302


def test_an_ipv4_client_is_held_to_its_network_limit_only(db, settings):
    settings.PHOENIX_SIGNUPS_PER_NETWORK = 2
    settings.PHOENIX_SIGNUPS_PER_WIDE_NETWORK = 1

    assert sign_up("a1", "a1@example.com", "10.1.1.1").status_code == 302
    assert sign_up("a2", "a2@example.com", "10.1.1.1").status_code == 302
    assert sign_up("a3", "a3@example.com", "10.1.1.1").status_code == 429


def test_past_the_daily_cap_the_grant_waits_and_the_catch_up_gives_it_once(db, settings):
    settings.PHOENIX_WELCOME_GRANTS_PER_DAY = 1
    first, second = Client(), Client()
    sign_up("early", "early@example.com", client=first)
    sign_up("late", "late@example.com", "10.8.8.8", client=second)
    confirm(first, sent_emails()[0])

    page = confirm(second, sent_emails()[1])

    assert balance("early") == 100
    assert balance("late") == 0
    assert "welcome tokens are paused" in page.content.decode()
    assert PendingWelcome.objects.get().user.username == "late"
    assert welcome.granted_today() == 1
    # Still today: the catch-up finds no room, and holds.
    assert services.held_welcomes_grant() == 0
    assert balance("late") == 0

    WelcomeDay.objects.update(day="2000-01-01")  # a new day: room again
    assert services.held_welcomes_grant() == 1
    assert services.held_welcomes_grant() == 0

    assert balance("late") == 100
    assert not PendingWelcome.objects.exists()
    assert LedgerEntry.objects.filter(reason="welcome").count() == 2
    assert ledger_discrepancies() == []


def test_an_address_welcomed_before_gives_its_slot_back(db, settings):
    settings.PHOENIX_WELCOME_GRANTS_PER_DAY = 5
    client = Client()
    sign_up("maker", "maker@example.com", client=client)
    confirm(client, sent_emails()[0])
    confirm(client, sent_emails()[0])  # again: no grant, no slot

    assert welcome.granted_today() == 1


def test_concurrent_confirmations_never_pass_the_cap(transactional_db, settings):
    settings.PHOENIX_WELCOME_GRANTS_PER_DAY = 3
    users = [
        get_user_model().objects.create_user(f"c{n}", f"c{n}@example.com", PASSWORD)
        for n in range(8)
    ]
    for user in users:
        with transaction.atomic():
            services.lock_account(user)

    run_at_once([lambda user=user: services.email_confirm(user=user) for user in users])

    assert LedgerEntry.objects.filter(reason="welcome").count() == 3
    assert PendingWelcome.objects.count() == 5
    assert welcome.granted_today() == 3
