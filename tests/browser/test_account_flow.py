"""Accounts in a real browser: the welcome banner until the address is confirmed, the
log-in page while a stranger is guessing the password, and the password reset by e-mail."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import Page, expect

from profiles.services import creator_signup
from tests.browser.test_creator_flow import PASSWORD, confirm_email, sign_up
from tests.conftest import sent_emails

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]


def test_a_new_creator_sees_the_banner_until_they_confirm_and_then_has_100_tokens(
    page: Page, screenshot
):
    username = sign_up(page, confirm=False)
    # The create page's one state for a new account (issue 26), not a banner above it.
    banner = page.locator("#welcome-unlock")
    expect(banner).to_contain_text("Confirm your address to unlock 100 free tokens")
    expect(banner).to_contain_text(f"{username}@example.com")
    expect(page.locator("#nav-balance")).to_have_text("0 tokens")
    expect(page.locator("#toasts")).to_contain_text("We sent a link to")
    screenshot(page, "account-01-welcome-banner")

    banner.get_by_role("button", name="Resend the link").click()
    expect(page).to_have_url(re.compile(r"/create$"))
    expect(page.locator("#toasts")).to_contain_text("We sent a new link")
    assert len(sent_emails()) == 2

    confirm_email(page, f"{username}@example.com")
    expect(page.locator("#nav-balance")).to_have_text("100 tokens")
    expect(page.locator("#welcome-unlock")).to_have_count(0)
    expect(page.locator("#toasts")).to_contain_text("100 welcome tokens are yours")
    screenshot(page, "account-02-confirmed")


def test_the_confirm_page_asks_before_it_confirms(page: Page, screenshot):
    username = sign_up(page, confirm=False)
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", sent_emails()[0].body)[0]

    page.goto(link)

    expect(page.get_by_role("heading", name="Confirm your e-mail")).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"{username}@example.com")
    screenshot(page, "account-03-confirm-page")


def test_a_new_browser_is_told_what_to_do_while_a_stranger_guesses_the_password(
    page: Page, screenshot, settings
):
    creator_signup(username="owner", email="owner@example.com", password=PASSWORD)
    settings.PHOENIX_LOGIN_FAILURES_PER_ACCOUNT = 20
    for number in range(40):
        Client().post(
            "/accounts/login/",
            {"username": "owner", "password": f"guess{number}"},
            REMOTE_ADDR=f"203.0.113.{number % 8}",
        )

    page.goto("/accounts/login/")
    page.fill("#id_username", "owner")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()

    main = page.locator("main")
    expect(main).to_contain_text("Someone has been trying to guess the password of this account")
    expect(main).to_contain_text("A browser you have logged in with before can still log in.")
    screenshot(page, "account-04-login-paused")

    # The way in: reset by e-mail, which logs in.
    page.get_by_role("link", name="Reset your password by e-mail").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    page.fill("#id_email", "owner@example.com")
    screenshot(page, "account-05-reset-form")
    page.get_by_role("button", name="Send me the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    screenshot(page, "account-06-reset-done")

    link = re.search(r"https?://\S+/accounts/reset/\S+/", sent_emails()[-1].body)[0]
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.fill("#id_new_password1", "Another-long-password-77")
    page.fill("#id_new_password2", "Another-long-password-77")
    screenshot(page, "account-07-reset-confirm")
    page.get_by_role("button", name="Set my password").click()
    expect(page.get_by_role("heading", name="Your new password is set")).to_be_visible()
    expect(page.locator("main")).to_contain_text("You're logged in as owner.")
    screenshot(page, "account-08-reset-complete")
    assert get_user_model().objects.get(username="owner").check_password("Another-long-password-77")

    # Logged out and in again from this (now known) browser, despite the attack.
    page.get_by_role("button", name="Log out").click()
    page.goto("/accounts/login/")
    page.fill("#id_username", "owner")
    page.fill("#id_password", "Another-long-password-77")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
