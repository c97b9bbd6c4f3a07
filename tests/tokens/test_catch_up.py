"""The nightly catch-up: paid sessions whose webhook never arrived are credited, once."""

import datetime

from django.utils import timezone

from tests.tokens.conftest import buy, post_event, reconciles
from tokens import payments
from tokens.models import Purchase
from tokens.selectors import balance_of


def test_it_credits_paid_sessions_whose_event_was_lost_and_only_once(
    alice_client, alice, fake_stripe
):
    lost = buy(alice_client)
    delivered = buy(alice_client)
    unpaid = buy(alice_client)
    before = balance_of(alice)
    fake_stripe.pay(lost.checkout_session_id)
    session = fake_stripe.pay(delivered.checkout_session_id)
    post_event(fake_stripe, fake_stripe.event("checkout.session.completed", session))
    fake_stripe.pay(unpaid.checkout_session_id, paid=False)
    assert balance_of(alice) == before + 100

    assert payments.purchases_catch_up() == 1
    assert payments.purchases_catch_up() == 0

    assert balance_of(alice) == before + 200
    assert Purchase.objects.get(pk=lost.pk).status == "fulfilled"
    assert Purchase.objects.get(pk=unpaid.pk).status == "pending"
    assert reconciles()


def test_it_pages_through_every_session_in_the_window(
    alice_client, alice, fake_stripe, settings, monkeypatch
):
    monkeypatch.setattr(payments, "CATCH_UP_PAGE", 1)
    purchases = [buy(alice_client) for _ in range(3)]
    for purchase in purchases:
        fake_stripe.pay(purchase.checkout_session_id)
    before = balance_of(alice)
    old = purchases[0]
    fake_stripe.sessions[old.checkout_session_id]["created"] = int(
        (
            timezone.now() - datetime.timedelta(days=settings.PHOENIX_PURCHASE_CATCH_UP_DAYS + 1)
        ).timestamp()
    )

    assert payments.purchases_catch_up() == 2
    assert fake_stripe.calls.count(("GET", "/v1/checkout/sessions")) == 2  # page by page

    assert balance_of(alice) == before + 200
    assert Purchase.objects.get(pk=old.pk).status == "pending"
    assert reconciles()


def test_a_payment_that_did_not_match_keeps_its_intent_and_the_catch_up_leaves_it(
    alice_client, alice, fake_stripe, caplog
):
    purchase = buy(alice_client)
    before = balance_of(alice)
    session = fake_stripe.pay(purchase.checkout_session_id)
    fake_stripe.sessions[purchase.checkout_session_id]["amount_total"] = 499
    post_event(
        fake_stripe,
        fake_stripe.event("checkout.session.completed", {**session, "amount_total": 499}),
    )

    purchase.refresh_from_db()
    assert purchase.status == "failed" and "Paid 499 usd" in purchase.failure_reason
    assert purchase.payment_intent_id == session["payment_intent"]  # staff can refund it
    caplog.clear()

    assert payments.purchases_catch_up() == 0

    assert "does not match" not in caplog.text  # settled: not tried (and logged) again
    assert balance_of(alice) == before
    assert reconciles()


def test_staff_refund_a_payment_that_did_not_match_in_full_and_its_refund_event_lands(
    alice_client, alice, fake_stripe
):
    purchase = buy(alice_client)
    session = fake_stripe.pay(purchase.checkout_session_id)
    fake_stripe.sessions[purchase.checkout_session_id]["amount_total"] = 499
    fake_stripe.charges[session["payment_intent"]]["amount"] = 499
    payments.purchase_fulfil(session_id=purchase.checkout_session_id)
    purchase.refresh_from_db()
    before = balance_of(alice)

    assert payments.purchase_refund_unspent(purchase=purchase) == 499

    charge = fake_stripe.charges[purchase.payment_intent_id]
    answer = post_event(fake_stripe, fake_stripe.event("charge.refunded", dict(charge)))
    assert answer.status_code == 200
    assert balance_of(alice) == before
    assert reconciles()


def test_the_admin_refunds_a_payment_that_did_not_match_in_full(
    alice_client, alice, fake_stripe, django_user_model
):
    from django.test import Client

    purchase = buy(alice_client)
    session = fake_stripe.pay(purchase.checkout_session_id)
    fake_stripe.sessions[purchase.checkout_session_id]["amount_total"] = 499
    fake_stripe.charges[session["payment_intent"]]["amount"] = 499
    payments.purchase_fulfil(session_id=purchase.checkout_session_id)
    staff = django_user_model.objects.create_superuser("till", password="till-password-123")
    admin = Client()
    admin.force_login(staff)

    answer = admin.post(
        "/admin/tokens/purchase/",
        {"action": "refund_unspent", "_selected_action": [str(purchase.pk)]},
        follow=True,
    )

    assert "refund of 499 minor units asked from Stripe" in answer.content.decode()
    assert [r["amount"] for r in fake_stripe.refunds] == [499]
