"""Refunds and chargebacks of purchases: unspent tokens leave, spent ones become debt (never
a negative balance) that the next purchase pays first; a dispute freezes the lot."""

import pytest

from tests.tokens.conftest import buy, pay, post_event, reconciles
from tokens import payments
from tokens.models import CreditLot, Purchase, TokenAccount
from tokens.selectors import balance_of, debt_of
from tokens.services import lock_account


def spend(user, make_creation, amount: int) -> None:
    """Spend `amount` tokens: images, one token each, through the real create path."""
    for _ in range(amount):
        make_creation(owner=user, kind="image", status="pending")


def refund_event(fake, purchase: Purchase, amount: int | None = None):
    purchase.refresh_from_db()
    fake.create_refund(
        {
            "payment_intent": purchase.payment_intent_id,
            **({"amount": str(amount)} if amount else {}),
        }
    )
    charge = fake.charges[purchase.payment_intent_id]
    return post_event(fake, fake.event("charge.refunded", dict(charge)))


def test_a_refund_before_any_spending_takes_every_token_back(alice_client, paid_only, fake_stripe):
    purchase = buy(alice_client)
    pay(fake_stripe, purchase)
    assert balance_of(paid_only) == 100

    assert refund_event(fake_stripe, purchase).status_code == 200

    purchase.refresh_from_db()
    assert purchase.status == "refunded" and purchase.refunded_amount == 500
    assert balance_of(paid_only) == 0 and debt_of(paid_only) == 0
    assert reconciles()


def test_a_refund_after_partial_spending_leaves_debt_paid_off_by_the_next_purchase(
    alice_client, paid_only, fake_stripe, make_creation
):
    purchase = buy(alice_client)
    pay(fake_stripe, purchase)
    spend(paid_only, make_creation, 30)

    refund_event(fake_stripe, purchase)

    assert balance_of(paid_only) == 0  # never negative
    assert debt_of(paid_only) == 30
    assert "You owe 30 tokens" in alice_client.get("/tokens").content.decode()
    assert alice_client.get("/api/tokens/balance").json()["debt"] == 30
    assert reconciles()

    second = buy(alice_client)
    pay(fake_stripe, second)

    assert debt_of(paid_only) == 0
    assert balance_of(paid_only) == 70
    assert CreditLot.objects.get(purchase=second).remaining == 70
    assert reconciles()


def test_a_partial_refund_takes_back_its_share_and_a_redelivery_nothing_more(
    alice_client, paid_only, fake_stripe
):
    purchase = buy(alice_client)
    pay(fake_stripe, purchase)

    refund_event(fake_stripe, purchase, amount=250)
    charge = fake_stripe.charges[Purchase.objects.get().payment_intent_id]
    # The same refund told again (a new event id, the same cumulative amount).
    post_event(fake_stripe, fake_stripe.event("charge.refunded", dict(charge)))

    assert balance_of(paid_only) == 50
    assert reconciles()


def test_staff_refund_the_unspent_part_through_stripe_and_the_webhook_moves_the_ledger(
    alice_client, paid_only, fake_stripe, make_creation
):
    purchase = buy(alice_client)
    pay(fake_stripe, purchase)
    spend(paid_only, make_creation, 40)
    purchase.refresh_from_db()

    amount = payments.purchase_refund_unspent(purchase=purchase)

    assert amount == 300  # 60 unspent of 100 tokens for 500
    assert fake_stripe.refunds[-1]["amount"] == 300
    assert balance_of(paid_only) == 60  # nothing moves before Stripe says so
    charge = fake_stripe.charges[purchase.payment_intent_id]
    post_event(fake_stripe, fake_stripe.event("charge.refunded", dict(charge)))
    assert balance_of(paid_only) == 0 and debt_of(paid_only) == 0
    assert reconciles()


def dispute(fake, purchase, *, status="needs_response", created=True):
    purchase.refresh_from_db()
    obj = fake.dispute(purchase.payment_intent_id, status=status)
    kind = "charge.dispute.created" if created else "charge.dispute.closed"
    return post_event(fake, fake.event(kind, obj))


def test_a_dispute_freezes_the_lot_until_it_is_won(
    alice_client, paid_only, fake_stripe, make_creation
):
    purchase = buy(alice_client)
    pay(fake_stripe, purchase)
    spend(paid_only, make_creation, 10)

    dispute(fake_stripe, purchase)
    assert balance_of(paid_only) == 0
    assert CreditLot.objects.get(purchase=purchase).frozen == 90
    assert Purchase.objects.get().status == "disputed"
    assert reconciles()

    dispute(fake_stripe, purchase, status="won", created=False)
    assert balance_of(paid_only) == 90 and debt_of(paid_only) == 0
    assert Purchase.objects.get().status == "fulfilled"
    assert reconciles()


def test_a_lost_dispute_is_a_refund(alice_client, paid_only, fake_stripe, make_creation):
    purchase = buy(alice_client)
    pay(fake_stripe, purchase)
    spend(paid_only, make_creation, 10)

    dispute(fake_stripe, purchase)
    dispute(fake_stripe, purchase, status="lost", created=False)

    assert balance_of(paid_only) == 0 and debt_of(paid_only) == 10
    assert Purchase.objects.get().status == "refunded"
    assert CreditLot.objects.get(purchase=purchase).frozen == 0
    assert reconciles()


def test_a_creation_refund_after_a_purchase_refund_pays_the_debt_first(
    alice_client, paid_only, fake_stripe, make_creation
):
    from django.db import transaction

    from tokens.services import creation_refund_locked

    purchase = buy(alice_client)
    pay(fake_stripe, purchase)
    creation = make_creation(owner=paid_only, kind="video", status="pending")
    refund_event(fake_stripe, purchase)
    assert debt_of(paid_only) == 10

    with transaction.atomic():
        creation_refund_locked(lock_account(paid_only), creation=creation, reason="provider_error")

    assert debt_of(paid_only) == 0 and balance_of(paid_only) == 0
    assert TokenAccount.objects.get(user=paid_only).debt == 0
    assert reconciles()


def test_the_admin_refunds_the_unspent_part_and_lists_purchases(
    alice_client, paid_only, fake_stripe, make_creation, django_user_model
):
    from django.test import Client

    purchase = buy(alice_client)
    pay(fake_stripe, purchase)
    spend(paid_only, make_creation, 20)
    staff = django_user_model.objects.create_superuser("till", password="till-password-123")
    admin = Client()
    admin.force_login(staff)

    listing = admin.get("/admin/tokens/purchase/").content.decode()
    assert "80 / 0" in listing  # the lot: unspent / frozen
    answer = admin.post(
        "/admin/tokens/purchase/",
        {"action": "refund_unspent", "_selected_action": [str(purchase.pk)]},
        follow=True,
    )

    assert "refund of 400 minor units asked from Stripe" in answer.content.decode()
    assert [r["amount"] for r in fake_stripe.refunds] == [400]
    assert balance_of(paid_only) == 80  # the webhook moves the ledger, not the admin
    assert reconciles()


# --- Events out of order --------------------------------------------------------------------


def test_a_refund_told_before_the_purchase_was_credited_still_takes_its_tokens_back(
    alice_client, paid_only, fake_stripe
):
    purchase = buy(alice_client)
    session = fake_stripe.pay(purchase.checkout_session_id)
    payment_intent = session["payment_intent"]
    # Refunded at Stripe at once; charge.refunded arrives before checkout.session.completed.
    fake_stripe.create_refund({"payment_intent": payment_intent})
    charge = dict(fake_stripe.charges[payment_intent])

    answer = post_event(fake_stripe, fake_stripe.event("charge.refunded", charge))
    assert answer.status_code == 200
    post_event(fake_stripe, fake_stripe.event("checkout.session.completed", session))

    purchase.refresh_from_db()
    assert purchase.status == "refunded" and purchase.refunded_amount == 500
    assert balance_of(paid_only) == 0 and debt_of(paid_only) == 0  # nothing unpaid to spend
    assert payments.purchases_catch_up() == 0
    assert balance_of(paid_only) == 0
    assert reconciles()


def test_a_dispute_told_before_the_purchase_was_credited_freezes_its_tokens(
    alice_client, paid_only, fake_stripe
):
    purchase = buy(alice_client)
    session = fake_stripe.pay(purchase.checkout_session_id)
    obj = fake_stripe.dispute(session["payment_intent"])
    answer = post_event(fake_stripe, fake_stripe.event("charge.dispute.created", obj))

    assert answer.status_code == 200

    assert Purchase.objects.get().status == "disputed"
    assert balance_of(paid_only) == 0
    assert CreditLot.objects.get(purchase=purchase).frozen == 100
    assert reconciles()


def test_a_charge_event_no_purchase_can_be_found_for_is_refused_so_stripe_retries(
    alice_client, paid_only, fake_stripe
):
    from tokens.models import StripeEvent

    charge = {"id": "ch_x", "object": "charge", "payment_intent": "pi_unknown", "amount": 500}
    charge["amount_refunded"] = 500
    event = fake_stripe.event("charge.refunded", charge)

    answer = post_event(fake_stripe, event)

    assert answer.status_code == 503
    record = StripeEvent.objects.get(event_id=event["id"])
    assert record.claimed_at is None and record.handled_at is None


@pytest.mark.parametrize("outcome", ["won", "lost"])
def test_a_dispute_closed_before_it_was_told_created_never_freezes_the_lot(
    alice_client, paid_only, fake_stripe, make_creation, outcome
):
    purchase = buy(alice_client)
    pay(fake_stripe, purchase)
    spend(paid_only, make_creation, 10)

    dispute(fake_stripe, purchase, status=outcome, created=False)
    dispute(fake_stripe, purchase)  # the late "created"
    dispute(fake_stripe, purchase, status=outcome, created=False)  # a redelivered close

    purchase.refresh_from_db()
    lot = CreditLot.objects.get(purchase=purchase)
    assert lot.frozen == 0
    assert purchase.dispute_outcome == outcome and purchase.dispute_id
    if outcome == "won":
        assert purchase.status == "fulfilled"
        assert balance_of(paid_only) == 90 and debt_of(paid_only) == 0
    else:  # a loss is a refund, even with no hold to take it from
        assert purchase.status == "refunded" and purchase.refunded_amount == 500
        assert balance_of(paid_only) == 0 and debt_of(paid_only) == 10
    assert reconciles()


@pytest.mark.parametrize("outcome", ["won", "lost"])
def test_a_dispute_told_in_order_ends_the_same(
    alice_client, paid_only, fake_stripe, make_creation, outcome
):
    purchase = buy(alice_client)
    pay(fake_stripe, purchase)
    spend(paid_only, make_creation, 10)

    dispute(fake_stripe, purchase)
    dispute(fake_stripe, purchase, status=outcome, created=False)
    dispute(fake_stripe, purchase)  # a redelivered "created"

    assert CreditLot.objects.get(purchase=purchase).frozen == 0
    if outcome == "won":
        assert balance_of(paid_only) == 90 and debt_of(paid_only) == 0
    else:
        assert balance_of(paid_only) == 0 and debt_of(paid_only) == 10
    assert reconciles()


# --- Taking back spent tokens ---------------------------------------------------------------


def test_a_refund_of_a_spent_pack_takes_the_tokens_still_held_before_any_debt(
    alice_client, paid_only, fake_stripe, make_creation
):
    first = buy(alice_client)
    pay(fake_stripe, first)
    second = buy(alice_client)
    pay(fake_stripe, second)
    spend(paid_only, make_creation, 100)  # all of the first pack (the oldest lot first)
    assert CreditLot.objects.get(purchase=first).remaining == 0
    assert balance_of(paid_only) == 100

    refund_event(fake_stripe, first)

    assert balance_of(paid_only) == 0 and debt_of(paid_only) == 0
    assert CreditLot.objects.get(purchase=second).remaining == 0
    assert reconciles()


def test_a_lost_dispute_takes_other_held_tokens_and_only_the_rest_is_debt(
    alice_client, paid_only, fake_stripe, make_creation
):
    first = buy(alice_client)
    pay(fake_stripe, first)
    spend(paid_only, make_creation, 60)
    second = buy(alice_client)
    pay(fake_stripe, second)  # 40 of the first and 100 of the second held
    spend(paid_only, make_creation, 70)  # 40 of the first, 30 of the second: 70 held

    dispute(fake_stripe, first)
    dispute(fake_stripe, first, status="lost", created=False)

    assert balance_of(paid_only) == 0 and debt_of(paid_only) == 30
    assert reconciles()
