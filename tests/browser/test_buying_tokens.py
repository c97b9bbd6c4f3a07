"""Buying a pack in a real browser: the buy page, the fake Stripe's hosted Checkout page,
Pay, and back on Phoenix the purchase page polls until the tokens are in."""

import pytest
from playwright.sync_api import Page, expect

from profiles.services import creator_signup
from tests.browser.conftest import assert_accessible, serve_axe
from tests.tokens.conftest import WEBHOOK_SECRET, ensure_packs, reconciles
from tokens.fake_stripe import FakeStripe
from tokens.models import Purchase
from tokens.selectors import balance_of

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]

PASSWORD = "Phoenix-rises-at-dawn-42"


@pytest.fixture
def stripe_for_the_live_server(live_server, settings):
    """The fake Stripe, delivering its events to the live server's webhook, as Stripe does."""
    fake = FakeStripe(
        webhook_url=live_server.url + "/stripe/webhook", webhook_secret=WEBHOOK_SECRET
    )
    settings.STRIPE_API_BASE = fake.start()
    settings.STRIPE_SECRET_KEY = "sk_test_phoenix"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    yield fake
    fake.stop()


def test_a_creator_buys_a_pack_and_sees_the_tokens_arrive(
    page: Page, stripe_for_the_live_server, screenshot, tmp_path
):
    ensure_packs()
    buyer = creator_signup(username="buyer", password=PASSWORD)
    before = balance_of(buyer)
    serve_axe(page.context)
    page.goto("/accounts/login/")
    page.fill("#id_username", "buyer")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # From the nav, as a creator would.
    page.get_by_role("link", name="Buy tokens").first.click()
    assert page.url.endswith("/tokens/buy")
    expect(page.get_by_role("heading", name="Buy tokens")).to_be_visible()
    expect(page.locator("#test-mode")).to_contain_text("Test mode")
    assert_accessible(page, "the buy page")
    screenshot(page, "tokens-buy")

    page.get_by_role("button", name="Buy Creator: 500 tokens").click()
    # The fake Stripe's hosted Checkout page.
    expect(page.get_by_role("heading", name="Creator: 500 Phoenix tokens")).to_be_visible()
    expect(page.get_by_text("20.00 USD")).to_be_visible()
    page.get_by_role("button", name="Pay").click()

    # Back on Phoenix: the purchase page polls until the webhook has credited the pack.
    expect(page.get_by_text("500 tokens added.")).to_be_visible(timeout=20_000)
    purchase = Purchase.objects.get()
    assert page.url.endswith(f"/tokens/purchases/{purchase.pk}")
    assert purchase.status == "fulfilled"
    assert balance_of(buyer) == before + 500
    expect(page.locator("#nav-balance")).to_have_text(f"{before + 500} tokens")
    assert_accessible(page, "the purchase page")
    shot = screenshot(page, "tokens-purchase-fulfilled")
    (tmp_path / "purchase.png").write_bytes(shot.read_bytes())

    page.goto("/tokens")
    expect(page.get_by_text("Tokens bought", exact=True)).to_be_visible()
    expect(page.get_by_text("500 tokens bought, no expiry")).to_be_visible()
    assert_accessible(page, "the token history with lots")
    screenshot(page, "tokens-history-with-lots")
    assert stripe_for_the_live_server.deliveries == [200]
    assert reconciles()
