import importlib

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.test import Client

from tests.conftest import staff_adjust
from tokens.fake_stripe import FakeStripe
from tokens.models import Purchase, TokenPack
from tokens.selectors import balance_of

WEBHOOK_SECRET = "whsec_test_phoenix_fake_secret"


@pytest.fixture
def fake_stripe(settings):
    """The fake Stripe, a real HTTP server the library talks to (STRIPE_API_BASE)."""
    fake = FakeStripe(webhook_secret=WEBHOOK_SECRET)
    settings.STRIPE_API_BASE = fake.start()
    settings.STRIPE_SECRET_KEY = "sk_test_phoenix"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    yield fake
    fake.stop()


def ensure_packs() -> None:
    """The migration's three packs (a transactional test's flush removes them)."""
    migration = importlib.import_module("tokens.migrations.0005_packs_and_opening_lots")
    migration.create_packs(django_apps, None)


@pytest.fixture
def starter(db) -> TokenPack:
    ensure_packs()
    return TokenPack.objects.get(slug="starter")


@pytest.fixture
def paid_only(alice, settings):
    """Alice holds no promo tokens: what she spends comes from what she buys."""
    settings.PHOENIX_MAX_IN_FLIGHT = 0
    staff_adjust(user=alice, amount=-balance_of(alice), reason="Start from nothing")
    return alice


def post_event(fake: FakeStripe, event: dict, *, client: Client | None = None):
    payload, header = fake.signed(event)
    return (client or Client()).post(
        "/stripe/webhook",
        payload,
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )


def buy(client: Client, slug: str = "starter") -> Purchase:
    ensure_packs()
    response = client.post("/api/tokens/checkout", {"pack": slug}, content_type="application/json")
    assert response.status_code == 201, response.content
    return Purchase.objects.get(pk=response.json()["purchase_id"])


def pay(fake: FakeStripe, purchase: Purchase, **kwargs) -> dict:
    """Pay at Stripe and deliver checkout.session.completed to Phoenix."""
    session = fake.pay(purchase.checkout_session_id, **kwargs)
    response = post_event(fake, fake.event("checkout.session.completed", session))
    assert response.status_code == 200, response.content
    return session


def reconciles() -> bool:
    call_command("reconcile_tokens")
    return True
