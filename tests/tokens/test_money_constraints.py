"""The database holds the money rules even when code is wrong, and reconcile_tokens sees a
lot that does not add up."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from tests.tokens.conftest import buy, pay, reconciles
from tokens.models import CreditLot, LedgerEntry, StripeEvent, TokenAccount


def test_reconcile_finds_lots_that_do_not_add_up_to_the_balance(alice, capsys):
    assert reconciles()
    CreditLot.objects.filter(account__user=alice).update(remaining=99)
    with pytest.raises(CommandError, match="1 account"):
        call_command("reconcile_tokens")
    assert "lots hold 99, off by +1" in capsys.readouterr().out


def test_a_second_credit_for_one_purchase_is_refused_by_the_database(
    alice_client, alice, fake_stripe
):
    purchase = buy(alice_client)
    pay(fake_stripe, purchase)
    account = TokenAccount.objects.get(user=alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            account=account, kind="purchase", amount=100, balance_after=300, purchase=purchase
        )


@pytest.mark.parametrize(
    "change",
    [{"remaining": -1}, {"frozen": -1}, {"granted": 0}],
    ids=["negative remainder", "negative frozen", "empty lot"],
)
def test_a_lot_cannot_hold_less_than_nothing(alice, change):
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditLot.objects.filter(account__user=alice).update(**change)


def test_debt_cannot_be_negative(alice):
    with pytest.raises(IntegrityError), transaction.atomic():
        TokenAccount.objects.filter(user=alice).update(debt=-1)


def test_an_event_that_could_not_be_handled_releases_its_claim_so_stripe_retries(
    alice_client, alice, fake_stripe
):
    from tests.tokens.conftest import post_event

    purchase = buy(alice_client)
    session = fake_stripe.pay(purchase.checkout_session_id)
    event = fake_stripe.event("checkout.session.completed", session)
    fake_stripe.stop()  # the session cannot be read back

    response = post_event(fake_stripe, event)

    assert response.status_code == 503
    record = StripeEvent.objects.get()
    assert record.claimed_at is None and record.handled_at is None  # free for the next copy
    assert reconciles()
