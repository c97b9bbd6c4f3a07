"""Checkout against the fake Stripe server, over HTTP with the official library."""

import pytest

from tests.tokens.conftest import buy, ensure_packs, pay, post_event, reconciles
from tokens.models import LedgerEntry, Purchase, StripeEvent
from tokens.selectors import balance_of


def test_it_lists_the_active_packs(client, starter):
    starter.active = False
    starter.save()
    packs = client.get("/api/tokens/packs").json()
    assert [p["slug"] for p in packs] == ["creator", "studio"]
    assert packs[0] == {
        "slug": "creator",
        "name": "Creator",
        "tokens": 500,
        "price": 2000,
        "currency": "usd",
    }


def test_checkout_opens_a_session_bound_to_the_purchase(alice_client, fake_stripe, starter):
    response = alice_client.post(
        "/api/tokens/checkout", {"pack": "starter"}, content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    purchase = Purchase.objects.get(pk=body["purchase_id"])
    session = fake_stripe.sessions[purchase.checkout_session_id]
    assert body["checkout_url"] == session["url"]
    assert session["mode"] == "payment"
    assert session["client_reference_id"] == str(purchase.pk)
    assert session["metadata"] == {"purchase_id": str(purchase.pk)}
    assert session["amount_total"] == 500 and session["currency"] == "usd"
    assert f"/tokens/purchases/{purchase.pk}" in session["success_url"]
    assert purchase.status == "pending" and purchase.tokens == 100
    assert fake_stripe.idempotent == {f"purchase-{purchase.pk}": session}


def test_an_unknown_or_inactive_pack_is_a_400_and_nothing_is_made(
    alice_client, fake_stripe, starter
):
    starter.active = False
    starter.save()
    odd = ("star\x00ter", "x" * 10_000, "\U0001b0d03\xd5")  # schemathesis found the NUL
    for slug in ("starter", "platinum", None, 7, ["starter"], {"slug": "starter"}, "", *odd):
        response = alice_client.post(
            "/api/tokens/checkout", {"pack": slug}, content_type="application/json"
        )
        assert response.status_code == 400
        assert response.json()["error"] == "unknown_pack"
    assert not Purchase.objects.exists() and not fake_stripe.sessions


def test_stripe_unreachable_is_a_readable_503_and_nothing_is_half_made(
    alice_client, fake_stripe, settings
):
    ensure_packs()
    fake_stripe.stop()
    response = alice_client.post(
        "/api/tokens/checkout", {"pack": "starter"}, content_type="application/json"
    )
    assert response.status_code == 503
    assert "try again" in response.json()["message"]
    assert not Purchase.objects.exists()


def test_checkout_needs_a_login(client, fake_stripe):
    response = client.post(
        "/api/tokens/checkout", {"pack": "starter"}, content_type="application/json"
    )
    assert response.status_code == 401


def test_the_buy_form_redirects_to_checkout(alice_client, fake_stripe):
    ensure_packs()
    response = alice_client.post("/tokens/buy", {"pack": "creator"})
    purchase = Purchase.objects.get()
    assert response.status_code == 303
    assert response["Location"] == fake_stripe.sessions[purchase.checkout_session_id]["url"]
    page = alice_client.get("/tokens/buy").content.decode()
    assert "Test mode" in page and "Buy Creator" in page


def test_the_buy_form_says_what_went_wrong(alice_client, fake_stripe):
    ensure_packs()
    unknown = alice_client.post("/tokens/buy", {"pack": "platinum"})
    assert unknown.status_code == 400
    assert "no pack &#x27;platinum&#x27; on sale" in unknown.content.decode()
    fake_stripe.stop()
    down = alice_client.post("/tokens/buy", {"pack": "starter"})
    assert down.status_code == 503
    assert "Payments are unavailable right now" in down.content.decode()
    assert not Purchase.objects.exists()


def test_a_paid_session_grants_the_pack_once(alice_client, alice, fake_stripe):
    purchase = buy(alice_client)
    before = balance_of(alice)
    session = pay(fake_stripe, purchase)
    assert balance_of(alice) == before + 100
    purchase.refresh_from_db()
    assert purchase.status == "fulfilled"
    assert purchase.payment_intent_id == session["payment_intent"]
    assert alice_client.get(f"/api/tokens/purchases/{purchase.pk}").json()["status"] == "fulfilled"
    page = alice_client.get(f"/tokens/purchases/{purchase.pk}").content.decode()
    assert "100 tokens added." in page
    # Finished: the status no longer polls.
    assert 'hx-trigger="every 2s"' not in page
    assert reconciles()


def test_sequential_duplicate_deliveries_grant_once(alice_client, alice, fake_stripe):
    purchase = buy(alice_client)
    before = balance_of(alice)
    session = fake_stripe.pay(purchase.checkout_session_id)
    event = fake_stripe.event("checkout.session.completed", session)
    answers = [post_event(fake_stripe, event) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["duplicate"] for a in answers] == [False, True, True]
    # The async success arriving too, a different event, credits nothing more.
    other = post_event(
        fake_stripe, fake_stripe.event("checkout.session.async_payment_succeeded", session)
    )
    assert other.status_code == 200
    assert balance_of(alice) == before + 100
    assert LedgerEntry.objects.filter(kind="purchase", purchase=purchase).count() == 1
    assert StripeEvent.objects.count() == 2
    assert reconciles()


@pytest.mark.parametrize(
    "header",
    [None, "t=1,v1=deadbeef", "garbage"],
)
def test_a_bad_or_missing_signature_is_a_400_and_changes_nothing(
    client, alice_client, alice, fake_stripe, header
):
    purchase = buy(alice_client)
    before = balance_of(alice)
    session = fake_stripe.pay(purchase.checkout_session_id)
    payload, _ = fake_stripe.signed(fake_stripe.event("checkout.session.completed", session))
    headers = {"Stripe-Signature": header} if header else {}
    response = client.post(
        "/stripe/webhook", payload, content_type="application/json", headers=headers
    )
    assert response.status_code == 400
    assert balance_of(alice) == before and not StripeEvent.objects.exists()


def test_an_event_signed_with_another_secret_is_refused(client, alice_client, alice, fake_stripe):
    purchase = buy(alice_client)
    session = fake_stripe.pay(purchase.checkout_session_id)
    payload, header = fake_stripe.signed(
        fake_stripe.event("checkout.session.completed", session), secret="whsec_someone_else"
    )
    response = client.post(
        "/stripe/webhook",
        payload,
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )
    assert response.status_code == 400
    assert Purchase.objects.get().status == "pending"


def test_an_amount_mismatch_grants_nothing(alice_client, alice, fake_stripe):
    purchase = buy(alice_client)
    before = balance_of(alice)
    fake_stripe.sessions[purchase.checkout_session_id]["amount_total"] = 1
    pay(fake_stripe, purchase)
    purchase.refresh_from_db()
    assert balance_of(alice) == before
    assert purchase.status == "failed" and "expected 500" in purchase.failure_reason
    assert reconciles()


def test_a_currency_mismatch_grants_nothing(alice_client, alice, fake_stripe):
    purchase = buy(alice_client)
    before = balance_of(alice)
    fake_stripe.sessions[purchase.checkout_session_id]["currency"] = "eur"
    pay(fake_stripe, purchase)
    assert balance_of(alice) == before
    assert Purchase.objects.get().status == "failed"


def test_the_event_body_is_not_trusted_the_session_is_read_back(alice_client, alice, fake_stripe):
    purchase = buy(alice_client)
    before = balance_of(alice)
    # An event claiming "paid" for a session Stripe says is unpaid grants nothing.
    session = {**fake_stripe.public(fake_stripe.sessions[purchase.checkout_session_id])}
    session["payment_status"] = "paid"
    post_event(fake_stripe, fake_stripe.event("checkout.session.completed", session))
    assert balance_of(alice) == before
    assert ("GET", f"/v1/checkout/sessions/{purchase.checkout_session_id}") in fake_stripe.calls


def test_an_async_payment_waits_then_succeeds(alice_client, alice, fake_stripe):
    purchase = buy(alice_client)
    before = balance_of(alice)
    pay(fake_stripe, purchase, paid=False)
    assert balance_of(alice) == before
    assert Purchase.objects.get().status == "pending"
    waiting = alice_client.get(f"/tokens/purchases/{purchase.pk}", headers={"HX-Request": "true"})
    assert 'hx-trigger="every 2s"' in waiting.content.decode()
    assert "<html" not in waiting.content.decode()
    session = fake_stripe.settle(purchase.checkout_session_id, succeeded=True)
    post_event(fake_stripe, fake_stripe.event("checkout.session.async_payment_succeeded", session))
    assert balance_of(alice) == before + 100
    assert Purchase.objects.get().status == "fulfilled"
    assert reconciles()


def test_an_async_payment_that_fails_grants_nothing(alice_client, alice, fake_stripe):
    purchase = buy(alice_client)
    before = balance_of(alice)
    pay(fake_stripe, purchase, paid=False)
    session = fake_stripe.settle(purchase.checkout_session_id, succeeded=False)
    post_event(fake_stripe, fake_stripe.event("checkout.session.async_payment_failed", session))
    assert balance_of(alice) == before
    assert Purchase.objects.get().status == "failed"
    page = alice_client.get(f"/tokens/purchases/{purchase.pk}").content.decode()
    assert "did not go through" in page
    assert reconciles()


def test_an_expired_session_grants_nothing(alice_client, alice, fake_stripe):
    purchase = buy(alice_client)
    before = balance_of(alice)
    session = fake_stripe.expire(purchase.checkout_session_id)
    post_event(fake_stripe, fake_stripe.event("checkout.session.expired", session))
    assert balance_of(alice) == before
    assert Purchase.objects.get().status == "expired"
    # In the history all the same, with its status.
    assert (
        "Starter pack</a> · 100 tokens · 5.00 USD · expired"
        in alice_client.get("/tokens").content.decode()
    )
    assert reconciles()


def test_a_purchase_is_its_owners_only(alice_client, bob, fake_stripe):
    purchase = buy(alice_client)
    alice_client.force_login(bob)
    assert alice_client.get(f"/api/tokens/purchases/{purchase.pk}").status_code == 404
    assert alice_client.get(f"/tokens/purchases/{purchase.pk}").status_code == 404


def test_the_balance_lists_lots_and_debt(alice_client, alice, fake_stripe):
    purchase = buy(alice_client)
    pay(fake_stripe, purchase)
    body = alice_client.get("/api/tokens/balance").json()
    assert body["balance"] == balance_of(alice) and body["debt"] == 0
    assert [(lot["category"], lot["remaining"]) for lot in body["lots"]] == [
        ("promo", 100),
        ("paid", 100),
    ]
    assert body["lots"][0]["expires_at"] is not None and body["lots"][1]["expires_at"] is None


def test_out_of_tokens_the_api_points_to_the_buy_page(alice_client, alice):
    from tests.conftest import staff_adjust

    staff_adjust(user=alice, amount=-balance_of(alice), reason="Spent")
    response = alice_client.post(
        "/api/generate/creation",
        {"type": "image", "prompt": "a fox"},
        content_type="application/json",
    )
    assert response.status_code == 402
    assert response.json()["buy_url"] == "/tokens/buy"
