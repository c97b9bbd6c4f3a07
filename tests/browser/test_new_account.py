"""A new account in a real browser, desk and phone: before confirming, the create page
has one state ("confirm to unlock", resend) and no out-of-tokens anywhere; after
following the link the tokens arrive with a notification on the bell; a staff adjustment
rings the bell too. Confirmed on a day whose welcome grants are all given, the create
page and the drafts composer say the tokens are on their way (and how to buy meanwhile),
not that the account is out of tokens."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from profiles import welcome
from profiles.models import WelcomeDay
from profiles.services import held_welcomes_grant
from tests.browser.experience import SIZES, look
from tests.conftest import sent_emails, staff_adjust

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]

PASSWORD = "Phoenix-rises-at-dawn-42"


def sign_up(page, name: str) -> None:
    page.goto(reverse("signup"))
    page.get_by_label("Username").fill(name)
    page.get_by_label("E-mail").fill(f"{name}@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()


@pytest.mark.parametrize("size", SIZES)
def test_a_new_account_sees_one_state_then_its_tokens_arrive(
    open_page_as, screenshot, size, settings
):
    # The per-network e-mail limit counts in the cache's Redis across this run's sign-ups.
    settings.PHOENIX_EMAILS_PER_NETWORK = 0
    page = open_page_as(size=SIZES[size])
    name = f"newcomer-{size}"
    sign_up(page, name)
    page.goto(reverse("create"))
    unlock = page.get_by_role("heading", name="Confirm your address to unlock 100 free tokens")
    expect(unlock).to_be_visible()
    expect(page.get_by_text("out of tokens", exact=False)).to_have_count(0)
    generate = page.locator(".create-form__submit")
    expect(generate).to_be_disabled()
    expect(generate).to_have_accessible_name("Confirm your e-mail to generate")
    # Choosing the other type keeps the same words (phoenix.js recomputes the label).
    page.get_by_text("Video", exact=True).click()
    expect(generate).to_have_accessible_name("Confirm your e-mail to generate")
    expect(page.get_by_role("button", name="Resend the link")).to_have_count(1)
    look(page, screenshot, f"new-account-create-{size}")

    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", sent_emails()[-1].body)[0]
    page.goto(link)
    page.get_by_role("button", name="Confirm my e-mail").click()
    expect(page).to_have_url(reverse("create"))
    expect(page.get_by_role("heading", name=re.compile("unlock"))).to_have_count(0)
    expect(page.locator("#nav-balance")).to_have_text("100 tokens")
    expect(page.get_by_role("link", name="Notifications, 1 unread")).to_be_visible()
    expect(generate).to_be_enabled()
    look(page, screenshot, f"new-account-confirmed-{size}")
    page.get_by_role("link", name="Notifications, 1 unread").click()
    expect(page.get_by_text("Your 100 welcome tokens have arrived")).to_be_visible()
    look(page, screenshot, f"new-account-notified-{size}")


def test_a_staff_adjustment_rings_the_creators_bell(open_page_as, screenshot, alice):
    page = open_page_as(alice, size=SIZES["phone"])
    staff_adjust(user=alice, amount=20, reason="Sorry about yesterday's outage")
    page.goto(reverse("notifications"))
    expect(page.get_by_text("Phoenix staff added 20 tokens to your balance")).to_be_visible()
    look(page, screenshot, "staff-adjustment-notified-phone")
    page.get_by_role("link", name=re.compile("Phoenix staff added 20 tokens")).click()
    expect(page).to_have_url(reverse("token_history"))
    expect(page.get_by_text("Sorry about yesterday's outage")).to_be_visible()


@pytest.mark.parametrize("size", SIZES)
def test_a_welcome_held_by_the_daily_cap_is_on_its_way_not_out_of_tokens(
    open_page_as, screenshot, size, settings
):
    settings.PHOENIX_EMAILS_PER_NETWORK = 0
    # Today's welcome grants are all given: the next confirmed account waits for a day
    # with room (profiles.welcome).
    settings.PHOENIX_WELCOME_GRANTS_PER_DAY = 1
    WelcomeDay.objects.create(day=welcome.today(), granted=1)
    page = open_page_as(size=SIZES[size])
    name = f"queued-{size}"
    sign_up(page, name)
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", sent_emails()[-1].body)[0]
    page.goto(link)
    page.get_by_role("button", name="Confirm my e-mail").click()

    expect(page).to_have_url(reverse("create"))
    held = page.get_by_role("heading", name="Your 100 free tokens are on their way")
    expect(held).to_be_visible()
    expect(page.get_by_text("out of tokens", exact=False)).to_have_count(0)
    generate = page.locator(".create-form__submit")
    expect(generate).to_be_disabled()
    expect(generate).to_have_accessible_name("Waiting for your free tokens")
    expect(generate).to_have_accessible_description(re.compile("on their way"))
    # Choosing the other type keeps the same words (phoenix.js recomputes the label).
    page.get_by_text("Video", exact=True).click()
    expect(generate).to_have_accessible_name("Waiting for your free tokens")
    # What can be done meanwhile: buy tokens.
    buy = page.locator("#welcome-held").get_by_role("link", name="Buy tokens")
    expect(buy).to_have_attribute("href", reverse("token_buy"))
    look(page, screenshot, f"welcome-held-create-{size}")

    # The drafts tab's composer says the same, in short.
    page.goto(reverse("profile", args=[name]) + "?tab=drafts")
    composer = page.locator("#composer")
    expect(composer).to_contain_text("Your 100 free tokens are on their way.")
    expect(composer.get_by_role("button", name="Waiting for your free tokens")).to_be_disabled()
    expect(composer.get_by_role("link", name="buy tokens")).to_be_visible()
    expect(page.get_by_text("out of tokens", exact=False)).to_have_count(0)
    look(page, screenshot, f"welcome-held-drafts-{size}")

    # A day with room: the hourly catch-up grants it, and the bell says so.
    WelcomeDay.objects.update(day="2000-01-01")
    assert held_welcomes_grant() == 1
    page.goto(reverse("create"))
    expect(held).to_have_count(0)
    expect(page.locator("#nav-balance")).to_have_text("100 tokens")
    expect(generate).to_be_enabled()
    page.get_by_role("link", name="Notifications, 1 unread").click()
    expect(page.get_by_text("Your 100 welcome tokens have arrived")).to_be_visible()
