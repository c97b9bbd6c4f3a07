"""A webhook event's record is a claim until it is handled: a handler that dies (a killed
worker, a timeout, a lost connection) never turns the event into a "duplicate" for good,
and a copy arriving while the first is still being handled is never answered 2xx."""

import datetime
from unittest import mock

from django.utils import timezone

from tests.tokens.conftest import buy, pay, post_event, reconciles
from tokens import payments
from tokens.models import LedgerEntry, StripeEvent
from tokens.selectors import balance_of


class Killed(BaseException):
    """What a worker's death looks like from inside (SystemExit, a gunicorn timeout)."""


def completed_event(fake_stripe, purchase) -> dict:
    session = fake_stripe.pay(purchase.checkout_session_id)
    return fake_stripe.event("checkout.session.completed", session)


def test_a_handler_killed_mid_event_leaves_it_for_the_next_delivery(
    alice_client, paid_only, fake_stripe
):
    purchase = buy(alice_client)
    event = completed_event(fake_stripe, purchase)
    with mock.patch.object(payments, "_dispatch", side_effect=Killed()):
        try:
            post_event(fake_stripe, event)
        except Killed:
            pass
    assert balance_of(paid_only) == 0

    answer = post_event(fake_stripe, event)

    assert answer.status_code == 200 and answer.json()["duplicate"] is False
    assert balance_of(paid_only) == 100
    assert StripeEvent.objects.get(event_id=event["id"]).handled_at is not None
    assert reconciles()


def test_a_dead_handlers_stale_claim_is_taken_over_and_a_live_one_is_not(
    alice_client, paid_only, fake_stripe
):
    # The process died outright (nothing ran after it): its claim stays, unhandled.
    purchase = buy(alice_client)
    event = completed_event(fake_stripe, purchase)
    record = StripeEvent.objects.create(
        event_id=event["id"], type=event["type"], claimed_at=timezone.now()
    )

    live = post_event(fake_stripe, event)
    assert live.status_code == 409  # maybe still running: Stripe sends it again later
    assert balance_of(paid_only) == 0

    StripeEvent.objects.filter(pk=record.pk).update(
        claimed_at=timezone.now() - payments.STALE_CLAIM - datetime.timedelta(seconds=1)
    )
    stale = post_event(fake_stripe, event)

    assert stale.status_code == 200 and stale.json()["duplicate"] is False
    assert balance_of(paid_only) == 100
    assert reconciles()


def test_a_copy_arriving_while_the_first_is_handled_is_refused_not_acknowledged(
    alice_client, paid_only, fake_stripe
):
    purchase = buy(alice_client)
    event = completed_event(fake_stripe, purchase)
    copies = []
    dispatch = payments._dispatch

    def first_then_fails(event_type, obj):
        copies.append(post_event(fake_stripe, event).status_code)  # while the first runs
        dispatch(event_type, obj)
        raise RuntimeError("the first handling fails after all")

    with mock.patch.object(payments, "_dispatch", side_effect=first_then_fails):
        try:
            post_event(fake_stripe, event)
        except RuntimeError:
            pass

    assert copies == [409]  # not 200: the first had not succeeded (and then did not)
    record = StripeEvent.objects.get(event_id=event["id"])
    assert record.handled_at is None and record.claimed_at is None


def test_an_event_handled_twice_is_applied_once(alice_client, paid_only, fake_stripe):
    purchase = buy(alice_client)
    event = completed_event(fake_stripe, purchase)

    first = post_event(fake_stripe, event)
    second = post_event(fake_stripe, event)

    assert first.json()["duplicate"] is False and second.json()["duplicate"] is True
    assert second.status_code == 200
    assert balance_of(paid_only) == 100
    assert LedgerEntry.objects.filter(kind="purchase", purchase=purchase).count() == 1
    assert reconciles()


def test_a_failed_handling_then_a_redelivery_applies_once(alice_client, paid_only, fake_stripe):
    purchase = buy(alice_client)
    pay(fake_stripe, purchase)  # credited once
    event = completed_event(fake_stripe, purchase)  # the same session, a new event id
    with mock.patch.object(payments, "_dispatch", side_effect=RuntimeError("boom")):
        try:
            post_event(fake_stripe, event)
        except RuntimeError:
            pass

    assert post_event(fake_stripe, event).status_code == 200
    assert balance_of(paid_only) == 100
    assert reconciles()
