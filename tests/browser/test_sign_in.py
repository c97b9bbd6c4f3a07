"""The log-in and sign-up pages in a real browser, desk and phone: log in with the e-mail
address typed in capitals, sign-up offered to someone new, the password rules shown on
the sign-up form (and a broken one said on the password field)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from profiles.services import creator_register
from tests.browser.experience import SIZES, look

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("browser"),
]

PASSWORD = "Phoenix-rises-at-dawn-42"


@pytest.mark.parametrize("size", SIZES)
def test_log_in_with_the_email_in_any_case(open_page_as, screenshot, size):
    creator_register(username=f"maya-{size}", email=f"maya.{size}@example.com", password=PASSWORD)
    page = open_page_as(size=SIZES[size])
    page.goto(reverse("login"))
    expect(page.get_by_role("heading", name="New to Phoenix?")).to_be_visible()
    expect(page.get_by_role("link", name="Create an account")).to_have_attribute(
        "href", reverse("signup")
    )
    look(page, screenshot, f"log-in-{size}")
    page.get_by_label("Username or e-mail").fill(f"MAYA.{size.upper()}@Example.com")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    look(page, screenshot, f"log-in-refused-{size}")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(reverse("feed"))
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


@pytest.mark.parametrize("size", SIZES)
def test_the_sign_up_form_shows_the_password_rules(open_page_as, screenshot, size, db):
    page = open_page_as(size=SIZES[size])
    page.goto(reverse("signup"))
    password = page.get_by_label("Password", exact=True)
    expect(password).to_have_accessible_description(
        "At least 8 characters. Not only digits. Not a password many people use. Not like "
        "your username or e-mail. A few words strung together are easy to remember and hard "
        "to guess."
    )
    page.get_by_label("Username").fill(f"newcomer-{size}")
    page.get_by_label("E-mail").fill(f"newcomer-{size}@example.com")
    password.fill("password")
    page.get_by_label("Password confirmation").fill("password")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("This password is too common.")).to_be_visible()
    look(page, screenshot, f"sign-up-password-rules-{size}")
