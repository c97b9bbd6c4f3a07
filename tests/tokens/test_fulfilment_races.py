"""Exactly-once fulfilment under real concurrency: real threads, real HTTP, real PostgreSQL."""

import pytest
from django.test import Client

from tests.conftest import run_at_once
from tests.tokens.conftest import buy, reconciles
from tokens import payments
from tokens.models import LedgerEntry, StripeEvent
from tokens.selectors import balance_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_eight_concurrent_copies_of_one_event_grant_once(alice, fake_stripe, live_server):
    client = Client()
    client.force_login(alice)
    purchase = buy(client)
    before = balance_of(alice)
    fake_stripe.webhook_url = live_server.url + "/stripe/webhook"
    session = fake_stripe.pay(purchase.checkout_session_id)
    event = fake_stripe.event("checkout.session.completed", session)

    statuses = run_at_once([lambda: fake_stripe.deliver(event) for _ in range(8)])

    # A copy arriving while another is being handled is asked to come again (409): it is
    # never answered 2xx before the event is applied.
    assert set(statuses) <= {200, 409} and 200 in statuses
    assert StripeEvent.objects.get(event_id=event["id"]).handled_at is not None
    # Stripe's later deliveries of the refused copies: duplicates of a handled event.
    assert [fake_stripe.deliver(event) for s in statuses if s == 409] == [200] * statuses.count(409)
    assert balance_of(alice) == before + 100
    assert LedgerEntry.objects.filter(kind="purchase", purchase=purchase).count() == 1
    assert StripeEvent.objects.filter(event_id=event["id"]).count() == 1
    assert reconciles()


def test_eight_concurrent_fulfilments_of_one_session_credit_once(alice, fake_stripe):
    # Past the event record (the catch-up, completed and async_payment_succeeded together):
    # the account lock and one_credit_per_purchase still credit once.
    client = Client()
    client.force_login(alice)
    purchase = buy(client)
    before = balance_of(alice)
    fake_stripe.pay(purchase.checkout_session_id)

    credited = run_at_once(
        [
            lambda: payments.purchase_fulfil(session_id=purchase.checkout_session_id)
            for _ in range(8)
        ]
    )

    assert sorted(credited) == [False] * 7 + [True]
    assert balance_of(alice) == before + 100
    assert reconciles()
