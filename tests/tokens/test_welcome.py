"""welcome_grant (tokens.services.account_grant_welcome): the welcome grant for a confirmed
address, once per address and once per account, written with the address's record in one
transaction."""

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from profiles.models import WelcomedAddress, welcome_address
from profiles.services import creator_register, email_confirm, welcome_grant
from tests.conftest import run_at_once
from tokens.models import LedgerEntry
from tokens.services import account_adjust, ledger_discrepancies


def register(name: str, email: str):
    return creator_register(username=name, email=email, password=f"{name}-password-123")


@pytest.mark.parametrize(
    ("email", "counted_as"),
    [
        ("Someone@Example.COM", "someone@example.com"),
        ("someone+promo@example.com", "someone@example.com"),
        ("some.one@example.com", "some.one@example.com"),  # dots matter outside Gmail
        ("Some.One+x@GoogleMail.com", "someone@gmail.com"),
        ("+only-a-tag@example.com", "+only-a-tag@example.com"),
        # One mailbox, its domain spelt in Unicode or in its IDNA (punycode) form.
        ("kate@Bücher.de", "kate@xn--bcher-kva.de"),
        ("kate@xn--bcher-kva.de", "kate@xn--bcher-kva.de"),
    ],
)
def test_an_address_is_counted_lower_cased_without_its_tag(email, counted_as):
    assert welcome_address(email) == counted_as


def test_it_grants_the_welcome_and_records_the_address_together(db):
    maker = register("maker", "maker@example.com")

    entry = welcome_grant(user=maker, email=maker.email)

    assert (entry.kind, entry.amount, entry.reason, entry.balance_after) == (
        "grant",
        100,
        "welcome",
        100,
    )
    record = WelcomedAddress.objects.get()
    assert (record.address, record.user, record.entry) == ("maker@example.com", maker, entry)


def test_the_welcome_follows_the_setting_and_zero_grants_nothing(db, settings):
    maker = register("maker", "maker@example.com")
    settings.PHOENIX_WELCOME_TOKENS = 0

    assert welcome_grant(user=maker, email=maker.email) is None
    assert LedgerEntry.objects.count() == 0
    assert WelcomedAddress.objects.count() == 0


def test_an_account_deactivated_since_it_opened_its_link_gets_no_grant(db):
    maker = register("maker", "maker@example.com")
    # Staff deactivate it between the link's check and the grant.
    get_user_model().objects.filter(pk=maker.pk).update(is_active=False)

    assert welcome_grant(user=maker, email=maker.email) is None
    assert LedgerEntry.objects.count() == 0
    # The address keeps its one grant for an account that may use it.
    assert WelcomedAddress.objects.count() == 0


def test_an_account_that_had_its_welcome_at_sign_up_gets_no_second(alice):
    assert welcome_grant(user=alice, email="alice@example.com") is None
    alice.token_account.refresh_from_db()
    assert alice.token_account.balance == 100


def test_the_database_refuses_a_second_record_of_one_address(db):
    maker = register("maker", "maker@example.com")
    other = register("other", "other@example.com")
    welcome_grant(user=maker, email=maker.email)
    # A ledger entry no record has (each record has its own entry, one-to-one): only the
    # address's own uniqueness can refuse the second record.
    staff = get_user_model().objects.create_user("staffer", is_staff=True)
    entry = account_adjust(user=other, amount=5, reason="goodwill", staff=staff)

    with pytest.raises(IntegrityError, match="address"), transaction.atomic():
        WelcomedAddress.objects.create(address="maker@example.com", entry=entry)


def test_the_record_outlives_the_account(db):
    maker = register("maker", "maker@example.com")
    welcome_grant(user=maker, email=maker.email)
    # The account gives the address up and goes (SET_NULL leaves the record so).
    get_user_model().objects.filter(pk=maker.pk).update(email="", is_active=False)
    WelcomedAddress.objects.filter(user=maker).update(user=None)

    again = register("again", "maker@example.com".upper())

    assert welcome_grant(user=again, email=again.email) is None


@pytest.mark.django_db(transaction=True)
def test_two_accounts_confirming_one_address_at_once_get_one_grant():
    users = [register(f"racer{n}", f"racer{n}@example.com") for n in range(6)]

    results = run_at_once(
        [lambda user=user: welcome_grant(user=user, email="Shared@Example.com") for user in users]
    )

    assert sum(entry is not None for entry in results) == 1
    assert LedgerEntry.objects.filter(kind="grant").count() == 1
    assert WelcomedAddress.objects.count() == 1
    balances = sorted(u.token_account.balance for u in get_user_model().objects.all())
    assert balances == [0] * 5 + [100]
    assert ledger_discrepancies() == []


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_confirm_grants_once():
    maker = register("maker", "maker@example.com")

    results = run_at_once([lambda: email_confirm(user=maker).grant] * 6)

    assert sum(entry is not None for entry in results) == 1
    maker.token_account.refresh_from_db()
    assert maker.token_account.balance == 100
    assert ledger_discrepancies() == []
